// Types of bundle-state.js (plain JavaScript so that running the bundle strips no TypeScript).
import type { Script } from 'node:vm';

export declare const ROOT: string;
export declare const BUNDLE_DIR: string;
export declare const BUNDLE_ENTRY: string;
export declare const BUNDLE_RECORD: string;
export declare const PLAN_SCRIPT: string;
export declare const PLAN_SCRIPT_PARAMS: string[];
export declare const PLAN_CODE_CACHE: string;
export declare function bundleIsCurrent(dir?: string): boolean;
export declare function planScriptHeader(tag: string): string;
export declare function loadPlanScript(dir?: string, onLoaded?: (script: Script, cacheFor: (data: Buffer) => Buffer) => void): typeof import('../src/cli/main.ts');
