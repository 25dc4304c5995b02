// The systemd target: the units, grouping target, sysusers.d entry and env file as text artifacts (rendered by
// src/render/systemd.ts, which deb, rpm and the installer share).
import type { PlannedArtifact } from '../types.ts';
import { textTarget } from '../text.ts';
import { systemdSources } from '../../render/systemd.ts';

function systemdKind(p: string): PlannedArtifact['kind'] {
  return p.startsWith('env/') ? 'env-file' : p.startsWith('systemd/sysusers.d/') ? 'sysusers' : 'systemd-unit';
}

export const systemdTarget = textTarget({
  id: 'systemd',
  description: 'systemd units, grouping target, sysusers.d entry and the env file',
  kindOf: systemdKind,
  roleOf: (p) => ({ 'env-file': 'env-file', sysusers: 'sysusers', 'systemd-unit': 'unit' } as const)[systemdKind(p) as 'env-file' | 'sysusers' | 'systemd-unit'],
  produces: ['unit', 'sysusers', 'env-file'],
  paths: ({ product }) => [...systemdSources(product).keys()],
  render: ({ product }) => new Map([...systemdSources(product)].map(([p, render]) => [p, render()])),
});
