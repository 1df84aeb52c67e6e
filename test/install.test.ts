import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {cpSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {HerokuCli, packPlugin} from '../src/tools/heroku-cli.js'
import {PRISMA_FIXTURE, seedPrismaApp} from '../src/sandbox/seeds/prisma-app.js'
import {appName, sandbox} from './support/sandbox.js'
import {assertNoSecrets, secretsOf} from './support/secrets.js'

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
    const seeded = await seedPrismaApp(sandbox(), name, project, {releaseCommand: null})
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

    // Prisma's WebAssembly schema engine and its driver-adapter bindings, loaded only by --generate, load from the install.
    const undone = join(scratch, 'prisma-app-without-down')
    cpSync(project, undone, {recursive: true})
    rmSync(join(undone, 'prisma', 'migrations', '20260501000000_widen_user_name', 'down.sql'))
    const generated = await cli.run(['migrate:down', '--app', name, '--generate', '--dry-run'], {cwd: undone})
    assert.equal(generated.code, 0, generated.stderr + generated.stdout)
    assert.match(generated.stdout, /by Prisma 7\.10\.0's schema engine \(WebAssembly, bundled with heroku-safe-rollback\)/)
    assert.match(generated.stdout, /ALTER TABLE "public"\."User" ALTER COLUMN "name" SET DATA TYPE VARCHAR\(50\);/)
    assert.match(generated.stdout, /✓ down-check/)
    assert.deepEqual(sandbox().writes(name), [])

    // The CLI's own @heroku-cli/command, @oclif/core and heroku-cli-util are used (not a second, cold copy);
    // forced to its own copies, the plugin works the same, with the CLI's login.
    const shared = await cli.run(['safe-rollback', 'v50', '--app', name, '--dry-run'], {env: {DEBUG: 'safe-rollback:modules'}})
    assert.equal(shared.code, 0, shared.stderr)
    assert.match(shared.stderr, /using the CLI's modules/)
    assert.doesNotMatch(shared.stderr, /heroku-safe-rollback\/node_modules\/@heroku-cli\/command/)
    const own = await Promise.all([
      cli.run(['safe-rollback', 'v50', '--app', name, '--dry-run'], {env: {DEBUG: 'safe-rollback:modules', HEROKU_SAFE_ROLLBACK_OWN_MODULES: '1'}}),
      cli.run(['migrate:down', '--app', name, '--dry-run'], {cwd: project, env: {HEROKU_SAFE_ROLLBACK_OWN_MODULES: '1'}}),
    ])
    for (const result of own) assert.equal(result.code, 0, result.stderr)
    assert.match(own[0].stderr, /using our own modules/)
    assert.match(own[0].stdout, /Rolling back .* to v50/)
    assert.match(own[1].stdout, /Dry run/)

    // With DEBUG=*, the CLI's HTTP client logs through the CLI's copy of `debug`: redacted too.
    const debugged = await cli.run(['migrate:down', '--app', name, '--dry-run'], {cwd: project, env: {DEBUG: '*'}})
    assert.equal(debugged.code, 0, debugged.stderr)
    assert.match(debugged.stderr, /\bhttp\b.*← GET \S+\/config-vars/, 'the HTTP client logged the read of the config vars')
    assertNoSecrets(debugged, secretsOf(seeded.app, [seeded.database]))
    assert.deepEqual(sandbox().writes(name), [])
  })
})
