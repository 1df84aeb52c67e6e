#!/usr/bin/env node
// Writes oclif.manifest.json from the compiled commands, as `oclif manifest` does, without its heavy toolchain.
import {Plugin} from '@oclif/core/config'
import {writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true})
await plugin.load()
const {commands, version} = plugin.manifest
// oclif lists commands in the order the file system returns them, which differs between machines;
// sorting keeps the committed manifest byte-identical to every build.
const sorted = Object.fromEntries(Object.keys(commands).sort().map(id => [id, commands[id]]))
writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify({commands: sorted, version}, null, 2) + '\n')
console.log(`oclif.manifest.json: ${Object.keys(commands).length} commands`)
