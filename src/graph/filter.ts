// GoReleaser-style artifact filters: a target finds what it consumes by role, platform, component, scope,
// never by importing the target that planned it.
import type { Platform } from '../product/model.ts';
import type { Artifact, ArtifactRole, ArtifactScope } from './artifact.ts';

export type Filter = (a: Artifact) => boolean;

const oneOf = <T>(want: T | readonly T[], got: T | undefined): boolean => (Array.isArray(want) ? (want as readonly T[]).includes(got as T) : want === got);

export const byRole = (role: ArtifactRole | readonly ArtifactRole[]): Filter => (a) => oneOf(role, a.role);
export const byPlatform = (platform: Platform | readonly Platform[]): Filter => (a) => oneOf(platform, a.platform);
/** By the platform's OS ("linux", "darwin", "windows"). */
export const byOs = (os: string): Filter => (a) => a.platform?.split('-')[0] === os;
export const byComponent = (component: string | readonly string[]): Filter => (a) => oneOf(component, a.component);
export const byScope = (scope: ArtifactScope): Filter => (a) => a.scope === scope;
export const byTarget = (target: string): Filter => (a) => a.target === target;
export const releaseAssets: Filter = (a) => a.release;

export const and = (...filters: Filter[]): Filter => (a) => filters.every((f) => f(a));
export const or = (...filters: Filter[]): Filter => (a) => filters.some((f) => f(a));
export const not = (filter: Filter): Filter => (a) => !filter(a);

/** The artifacts passing every filter, in plan order. */
export function select(artifacts: readonly Artifact[], ...filters: Filter[]): Artifact[] {
  return artifacts.filter(and(...filters));
}
