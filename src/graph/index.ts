// The artifact graph: model, filters, planner registry, executor.
export * from './artifact.ts';
export * from './errors.ts';
export * from './filter.ts';
export * from './graph.ts';
export * from './planner.ts';
export * from './executor.ts';
