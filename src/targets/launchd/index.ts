// The launchd target: LaunchDaemons and LaunchAgents as text artifacts (rendered by src/render/launchd.ts).
import { launchdFiles, launchdPlists } from '../../render/launchd.ts';
import { textTarget } from '../text.ts';

export const launchdTarget = textTarget({
  id: 'launchd',
  description: 'launchd plists (LaunchDaemons for system installs, LaunchAgents per user)',
  roleOf: () => 'plist',
  produces: ['plist'],
  paths: ({ product, platforms }) => (platforms.some((p) => p.startsWith('darwin-')) ? launchdPlists(product).map((p) => p.path) : []),
  render: ({ product, platforms }) => (platforms.some((p) => p.startsWith('darwin-')) ? launchdFiles(product) : new Map()),
});
