// The systemd target: the units, grouping target, sysusers.d entry and env file as text artifacts (rendered by
// src/render/systemd.ts, which deb, rpm and the installer share).
import { textTarget } from '../text.ts';
import { systemdSources } from '../../render/systemd.ts';

function systemdRole(p: string): 'env-file' | 'sysusers' | 'unit' {
  return p.startsWith('env/') ? 'env-file' : p.startsWith('systemd/sysusers.d/') ? 'sysusers' : 'unit';
}

export const systemdTarget = textTarget({
  id: 'systemd',
  description: 'systemd units, grouping target, sysusers.d entry and the env file',
  roleOf: systemdRole,
  produces: ['unit', 'sysusers', 'env-file'],
  paths: ({ product }) => [...systemdSources(product).keys()],
  render: ({ product }) => new Map([...systemdSources(product)].map(([p, render]) => [p, render()])),
});
