import assert from 'node:assert/strict'
import {seedBrokenApp} from '../src/sandbox/scenario.js'
import {run} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'

// The sandbox is only useful if the official CLI's own commands work against it unchanged.
describe('the sandbox, seen by the real heroku CLI', () => {
  it('lists releases newest first, as `heroku releases` prints them', async () => {
    const name = appName('releases')
    await seedBrokenApp(sandbox(), name)
    const result = await run(['releases', '-a', name])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /v52\s+Set AWS_S3_KEY config vars\s+shanley@example\.com/)
    assert.match(result.stdout, /v50\s+Deploy 7c35f77\s+katie@example\.com/)
    const range = sandbox().requests.find(r => r.path === `/apps/${name}/releases`)?.headers.range
    assert.equal(range, 'version ..; max=15, order=desc')
  })

  it('rolls back with `heroku rollback`, creating a new release with the old slug and config', async () => {
    const name = appName('rollback')
    const {app} = await seedBrokenApp(sandbox(), name, {releaseCommand: null})
    const result = await run(['rollback', 'v50', '-a', name])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /done, v53/)
    const latest = app.releases.at(-1)!
    assert.equal(latest.description, 'Rollback to v50')
    assert.equal(latest.slug?.id, app.releases[49].slug?.id)
    assert.equal(app.config.AWS_S3_KEY, undefined)
  })

  it('lists backups with Heroku names and shows database info through the Data API', async () => {
    const name = appName('pg')
    await seedBrokenApp(sandbox(), name)
    const backups = await run(['pg:backups', '-a', name])
    assert.equal(backups.code, 0, backups.stderr)
    assert.match(backups.stdout, /a\d{3}\s/)
    assert.match(backups.stdout, /Completed/)
    const info = await run(['pg:info', '-a', name])
    assert.equal(info.code, 0, info.stderr)
    assert.match(info.stdout, /Plan:\s+Standard 0/)
    assert.match(info.stdout, /Rollback:\s+earliest from/)
  })

  it('answers a wrong API key with 401 and an {id, message} body', async () => {
    const result = await run(['releases', '-a', appName()], {env: {HEROKU_API_KEY: 'wrong'}})
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, /invalid/i)
  })
})
