import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {cpSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {HerokuCli, packPlugin} from '../src/sandbox/cli.js'
import {PRISMA_FIXTURE, seedPrismaApp} from '../src/sandbox/prisma-scenario.js'
import {appName, sandbox} from './support/sandbox.js'

// Users get the plugin from `heroku plugins:install`, not from a linked checkout: only what package.json
// ships (its `files` and `dependencies`) is there. A runtime module left in devDependencies, or a
// compiled file missing from the package, passes every linked test and fails here.
describe('the packed plugin, installed with `heroku plugins:install`', function () {
  this.timeout(240_000)
  const scratch = mkdtempSync(join(tmpdir(), 'packed-plugin-'))
  after(() => rmSync(scratch, {recursive: true, force: true}))

  it('ships the compiled commands and manifest without the sandbox, and runs every command from the installed copy', async () => {
    const tarball = packPlugin(scratch)
    const files = execFileSync('tar', ['-tzf', tarball], {encoding: 'utf8'}).split('\n')
    for (const file of ['package/oclif.manifest.json', 'package/dist/commands/safe-rollback.js', 'package/dist/commands/db/recover.js', 'package/dist/commands/migrate/down.js'])
      assert.ok(files.includes(file), `${file} is not in the package`)
    assert.deepEqual(files.filter(file => /^package\/(src|test|dist\/sandbox)\//.test(file)), [])

    const cli = new HerokuCli(sandbox())
    await cli.install(tarball)
    const plugins = await cli.run(['plugins'])
    assert.match(plugins.stdout, /^heroku-safe-rollback 0\.1\.0$/m)
    assert.doesNotMatch(plugins.stdout, /\(link\)/)
    const which = await cli.run(['which', 'migrate:down'])
    assert.match(which.stdout, /heroku-safe-rollback/)

    const name = appName('packed')
    const project = join(scratch, 'prisma-app')
    cpSync(PRISMA_FIXTURE, project, {recursive: true})
    await seedPrismaApp(sandbox(), name, project, {releaseCommand: null})
    sandbox().clearRequests()

    // Each command's lazy imports (the API layer, heroku-cli-util, pg, the PostgreSQL parser) load from the install.
    const runs = await Promise.all([
      cli.run(['safe-rollback', 'v50', '--app', name, '--dry-run']),
      cli.run(['db:recover', '--app', name, '--backup', 'latest', '--dry-run']),
      cli.run(['migrate:down', '--app', name, '--dry-run'], {cwd: project}),
    ])
    for (const result of runs) assert.equal(result.code, 0, result.stderr)
    assert.match(runs[0].stdout, /Rolling back .* to v50/)
    assert.match(runs[1].stdout, /Restore a\d+ into DATABASE/)
    assert.match(runs[2].stdout, /Dry run/)
    assert.deepEqual(sandbox().writes(name), [])
  })
})
