// One version for the artifact shape that `plan --json` prints and dist/<version>/plan.json records (a leaf
// module: the planner and the manifest both import it, neither imports the other's values).
export const SCHEMA_VERSION = 3;
