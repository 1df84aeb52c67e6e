import assert from 'node:assert/strict'
import {readFileSync, readdirSync} from 'node:fs'
import {join, relative} from 'node:path'
import {manifestPath, manifestText} from '../src/tools/manifest.js'
import {root} from './support/heroku.js'

const commandFiles = (dir: string): string[] => readdirSync(dir, {withFileTypes: true}).flatMap(entry =>
  entry.isDirectory() ? commandFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [])

// oclif.manifest.json lets the CLI list and parse commands without loading them; a stale one
// would show wrong flags or hide a command from `heroku help`.
describe('oclif.manifest.json', () => {
  const committed = JSON.parse(readFileSync(manifestPath, 'utf8'))

  it('has an entry for every command in src/commands', () => {
    const ids = commandFiles(join(root, 'src', 'commands')).map(file => relative(join(root, 'src', 'commands'), file).replace(/\.ts$/, '').split('/').join(':'))
    assert.ok(ids.includes('safe-rollback'))
    for (const id of ids) assert.ok(committed.commands[id], `${id} is missing from oclif.manifest.json: run npm run build`)
  })

  it('is, byte for byte, what the build writes for the compiled commands', async () => {
    assert.equal(readFileSync(manifestPath, 'utf8'), await manifestText(), 'oclif.manifest.json is stale: run npm run build')
  })

  // A build on one machine cannot show that another machine's build gives the same bytes; sorted ids do.
  it('lists commands sorted by id, so every machine builds the same bytes', () => {
    const ids = Object.keys(committed.commands)
    assert.deepEqual(ids, [...ids].sort())
  })
})
