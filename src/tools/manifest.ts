import {Plugin} from '@oclif/core/config'
import {join} from 'node:path'
import {repoRoot} from './heroku-cli.js'

export const manifestPath = join(repoRoot, 'oclif.manifest.json')

// The text of oclif.manifest.json for the compiled commands, as `oclif manifest` writes it, without its
// heavy toolchain. The build writes it; the tests compare it with the committed file, byte for byte, as CI does.
export async function manifestText(): Promise<string> {
  const plugin = new Plugin({root: repoRoot, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true})
  await plugin.load()
  const {commands, version} = plugin.manifest
  // oclif lists commands in the order the file system returns them, which differs between machines.
  const sorted = Object.fromEntries(Object.keys(commands).sort().map(id => [id, commands[id]]))
  return JSON.stringify({commands: sorted, version}, null, 2) + '\n'
}
