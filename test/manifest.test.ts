import assert from 'node:assert/strict'
import {readFileSync, readdirSync} from 'node:fs'
import {join, relative} from 'node:path'
import {Plugin} from '@oclif/core/config'
import {root} from './support/heroku.js'

const commandFiles = (dir: string): string[] => readdirSync(dir, {withFileTypes: true}).flatMap(entry =>
  entry.isDirectory() ? commandFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [])

// oclif.manifest.json lets the CLI list and parse commands without loading them; a stale one
// would show wrong flags or hide a command from `heroku help`.
describe('oclif.manifest.json', () => {
  const committed = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'))

  it('has an entry for every command in src/commands', () => {
    const ids = commandFiles(join(root, 'src', 'commands')).map(file => relative(join(root, 'src', 'commands'), file).replace(/\.ts$/, '').split('/').join(':'))
    assert.ok(ids.includes('safe-rollback'))
    for (const id of ids) assert.ok(committed.commands[id], `${id} is missing from oclif.manifest.json: run npm run build`)
  })

  it('matches the compiled commands exactly', async () => {
    const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true})
    await plugin.load()
    assert.deepEqual(committed.commands, JSON.parse(JSON.stringify(plugin.manifest.commands)))
  })

  // CI compares the committed bytes with a fresh build's, and file systems list commands in different orders.
  it('lists commands sorted by id, so every machine builds the same bytes', () => {
    const ids = Object.keys(committed.commands)
    assert.deepEqual(ids, [...ids].sort())
  })
})
