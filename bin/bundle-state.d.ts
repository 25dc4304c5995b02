// Types of bundle-state.js (plain JavaScript so that running the bundle strips no TypeScript).
export declare const ROOT: string;
export declare const BUNDLE_DIR: string;
export declare const BUNDLE_ENTRY: string;
export declare const BUNDLE_RECORD: string;
export declare function bundleIsCurrent(dir?: string): boolean;
