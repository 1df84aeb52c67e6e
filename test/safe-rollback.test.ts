import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {seedBrokenApp} from '../src/sandbox/seeds/broken-app.js'
import {heroku, interactive, run} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'
import {assertNoSecrets, secretsOf} from './support/secrets.js'

const HOUR = 3600_000

async function brokenApp(options: Parameters<typeof seedBrokenApp>[2] = {}) {
  const name = appName('sr')
  const seeded = await seedBrokenApp(sandbox(), name, {releaseCommand: null, ...options})
  return {name, ...seeded}
}

const rollbackRequests = (name: string) => sandbox().requests.filter(r => r.method === 'POST' && r.path === `/apps/${name}/releases`)
const maintenanceRequests = (name: string) => sandbox().requests.filter(r => r.method === 'PATCH' && r.path === `/apps/${name}`).map(r => r.body.maintenance)

describe('heroku safe-rollback', () => {
  describe('as a plugin of the real CLI', () => {
    it('shows in `heroku help` with examples and in `heroku commands`', async () => {
      const help = await heroku(['help', 'safe-rollback'])
      assert.equal(help.code, 0, help.stderr)
      assert.match(help.stdout, /roll an app's code and config back to a stable release/)
      assert.match(help.stdout, /EXAMPLES[\s\S]*heroku safe-rollback v50 --app my-app --dry-run/)
      assert.match(help.stdout, /--max-backup-age=<value>\s+\[default: 24h\]/)
      const commands = await heroku(['commands'])
      assert.match(commands.stdout, /│ safe-rollback\s+│ roll an app's code and config back/)
    })
  })

  describe('choosing the release', () => {
    for (const ref of ['v50', '50']) {
      it(`accepts ${ref}`, async () => {
        const {name, app} = await brokenApp()
        const result = await heroku(['safe-rollback', ref, '--app', name, '--confirm', name])
        assert.equal(result.code, 0, result.stderr)
        assert.deepEqual(rollbackRequests(name).map(r => r.body), [{release: app.releases[49].id}])
      })
    }

    it('accepts a release id', async () => {
      const {name, app} = await brokenApp()
      const result = await heroku(['safe-rollback', app.releases[49].id, '--app', name, '--confirm', name])
      assert.equal(result.code, 0, result.stderr)
      assert.equal(rollbackRequests(name)[0].body.release, app.releases[49].id)
    })

    it('without a terminal and without RELEASE, picks the release `heroku releases:rollback` would', async () => {
      const {name, app} = await brokenApp()
      const result = await heroku(['safe-rollback', '--app', name, '--dry-run'])
      assert.equal(result.code, 0, result.stderr)
      // The second eligible release among the newest ten: v51, the one before the current v52.
      assert.match(result.stdout, /from v52 to v51/)
      assert.equal(app.releases.length, 52)
    })

    const refusals: [string, (app: Awaited<ReturnType<typeof brokenApp>>['app']) => string, RegExp][] = [
      ['an unknown release', () => 'v999', /Release v999 does not exist on/],
      ['the current release', () => 'v52', /v52 is the current release/],
      ['a failed release', app => {
        sandbox().state.addRelease(app, {description: 'Deploy 0badf00', status: 'failed'})
        return 'v53'
      }, /v53 failed/],
      ['an ineligible release', app => {
        app.releases[47].eligible_for_rollback = false
        return 'v48'
      }, /v48 is not eligible for rollback/],
    ]
    for (const [what, choose, message] of refusals) {
      it(`refuses ${what} with one line and writes nothing`, async () => {
        const {name, app} = await brokenApp()
        const ref = choose(app)
        const result = await heroku(['safe-rollback', ref, '--app', name, '--confirm', name])
        assert.equal(result.code, 1)
        assert.match(result.stderr.split('\n')[0], message)
        assert.deepEqual(sandbox().writes(name), [])
      })
    }

    it('refuses an expired release with the commit it ran and the command that deploys that commit again', async () => {
      const {name, app} = await brokenApp()
      const expired = app.releases[47]
      sandbox().state.expire(app, expired)
      const commit = /^Deploy (\w+)$/.exec(expired.description)![1]
      const result = await heroku(['safe-rollback', 'v48', '--app', name, '--confirm', name])
      assert.equal(result.code, 1)
      const [line] = result.stderr.split('\n')
      assert.match(line, /^Error: Cannot roll \S+ back to v48: v48 is expired: Heroku deleted its slug \(releases older than 30 days and 20 releases cannot be rolled back to\)\./)
      assert.ok(line.includes(`v48 ran commit ${commit}; deploy it again from the app's git repository: \`git push --force https://git.heroku.com/${name}.git ${commit}:main\``), line)
      const json = await heroku(['safe-rollback', 'v48', '--app', name, '--dry-run', '--json'])
      assert.equal(json.code, 1)
      assert.deepEqual(JSON.parse(json.stdout).target, {version: 48, status: 'expired', commit, redeploy: `git push --force https://git.heroku.com/${name}.git ${commit}:main`})
      assert.deepEqual(sandbox().writes(name), [])
    })

    it('refuses an expired release whose commit is unknown, naming the command that shows what it was', async () => {
      const {name, app} = await brokenApp()
      sandbox().state.expire(app, app.releases[1])
      const result = await heroku(['safe-rollback', 'v2', '--app', name, '--confirm', name])
      assert.equal(result.code, 1)
      assert.match(result.stderr.split('\n')[0], new RegExp(`v2 is expired: .*The commit v2 ran is not known: \`heroku releases:info v2 --app ${name}\` shows what it deployed\.$`))
      assert.deepEqual(sandbox().writes(name), [])
    })

    it('reads the app from the git remote, as every heroku command does', async () => {
      const {name} = await brokenApp()
      const repo = mkdtempSync(join(tmpdir(), 'app-remote-'))
      execFileSync('git', ['init', '-q'], {cwd: repo})
      execFileSync('git', ['remote', 'add', 'heroku', `https://git.heroku.com/${name}.git`], {cwd: repo})
      const result = await heroku(['safe-rollback', 'v50', '--dry-run'], {cwd: repo})
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, new RegExp(`Rolling back ${name} from v52 to v50`))
    })

    it('reads as many release pages as a rollback far back needs', async () => {
      const {name} = await brokenApp()
      const result = await heroku(['safe-rollback', 'v10', '--app', name, '--dry-run', '--json'])
      assert.equal(result.code, 0, result.stderr)
      const report = JSON.parse(result.stdout)
      assert.deepEqual(report.releasesUndone.map((r: {version: number}) => r.version), Array.from({length: 42}, (_, i) => 52 - i))
      const ranges = sandbox().requests.filter(r => r.path === `/apps/${name}/releases` && r.method === 'GET').map(r => r.headers.range)
      assert.deepEqual(ranges, ['version ..; max=25, order=desc', 'version ..; max=100, order=desc'])
    })

    it('refuses an unknown app', async () => {
      const result = await heroku(['safe-rollback', 'v2', '--app', 'no-such-app', '--confirm', 'no-such-app'])
      assert.equal(result.code, 1)
      assert.match(result.stderr, /^Error: App no-such-app does not exist/m)
    })
  })

  describe('the preview', () => {
    it('shows the target, the releases undone newest first and the config var names that change', async () => {
      const {name, app, database} = await brokenApp()
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--dry-run'])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /Target: v50 Deploy 7c35f77 \(commit 7c35f77, katie@example\.com, 3h ago\)/)
      assert.match(result.stdout, /Releases this undoes \(2, newest first\):\n\s+v52\s+Set AWS_S3_KEY config vars\s+shanley@example\.com\s+5m ago\n\s+v51\s+Deploy de63889/)
      assert.match(result.stdout, /removed:\s+AWS_S3_KEY/)
      assert.match(result.stdout, /does not add, remove or re-attach add-ons/)
      assertNoSecrets(result, secretsOf(app, [database]))
    })

    it('warns loudly when the rollback crosses a database attachment change', async () => {
      const {name, app} = await brokenApp({withDatabase: false})
      const database = await sandbox().createPostgres(app, 'heroku-postgresql:essential-0')
      sandbox().capture(database)
      await sandbox().settle()
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--dry-run'])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /!! DATABASE WARNING: the app would lose DATABASE_URL \(no database connection\); the rollback crosses database attachment changes \(v52 Attach DATABASE/)
      assert.match(result.stdout, /added since v50: heroku-postgresql:essential-0/)
    })

    it('says the release command runs again and undoes nothing', async () => {
      const {name} = await brokenApp({releaseCommand: 'npx prisma migrate deploy'})
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--dry-run'])
      assert.match(result.stdout, /The release command \(npx prisma migrate deploy\) runs again for v50; it undoes nothing/)
    })

    it('lists Prisma migrations deployed since the target when run in the app\'s git repository', async () => {
      const repo = mkdtempSync(join(tmpdir(), 'app-repo-'))
      const git = (...args: string[]) => execFileSync('git', args, {cwd: repo, encoding: 'utf8'}).trim()
      git('init', '-q')
      git('config', 'user.email', 'dev@example.com')
      git('config', 'user.name', 'Dev')
      const migration = (folder: string) => {
        mkdirSync(join(repo, 'prisma', 'migrations', folder), {recursive: true})
        writeFileSync(join(repo, 'prisma', 'migrations', folder, 'migration.sql'), `-- ${folder}\n`)
        git('add', '-A')
        git('commit', '-qm', folder)
        return git('rev-parse', 'HEAD')
      }
      const good = migration('20261101000000_init')
      migration('20261120000000_add_orders')
      const bad = migration('20261124000000_drop_legacy')

      const name = appName('sr-git')
      const app = sandbox().createApp(name)
      const {state} = sandbox()
      state.addRelease(app, {description: 'Initial release'})
      for (const commit of [good, bad]) {
        const slug = state.addSlug(app, commit)
        state.addRelease(app, {description: `Deploy ${commit.slice(0, 7)}`, slug: {id: slug.id}})
      }
      const result = await heroku(['safe-rollback', 'v2', '--app', name, '--dry-run'], {cwd: repo})
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /!! 2 Prisma migrations deployed since v2 stay applied: 20261120000000_add_orders, 20261124000000_drop_legacy\./)
      assert.match(result.stdout, /heroku migrate:down --steps 2 --app sr-git-/)
    })
  })

  describe('the backup gate', () => {
    it('refuses when the newest successful backup is too old, naming the database, its age and the flags', async () => {
      const {name, database} = await brokenApp({backupAgeMs: 30 * HOUR})
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name])
      assert.equal(result.code, 1)
      assert.match(result.stderr, new RegExp(`^Error: Rollback blocked: DATABASE \\(${database!.name}\\): newest good backup a\\d+ is 1d 6h old \\(limit 1d\\)\\. Capture one with --capture-backup`, 'm'))
      assert.match(result.stderr, /--skip-backup-check/)
      assert.deepEqual(sandbox().writes(name), [])
    })

    it('does not count failed backups', async () => {
      const {name, database} = await brokenApp({backupAgeMs: 30 * HOUR})
      sandbox().capture(database!, {fails: true})
      await sandbox().settle()
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--dry-run'])
      assert.equal(result.code, 1)
      assert.match(result.stderr, /newest good backup a\d+ is 1d 6h old/)
    })

    it('honours --max-backup-age', async () => {
      const {name} = await brokenApp({backupAgeMs: 3 * HOUR})
      const strict = await heroku(['safe-rollback', 'v50', '--app', name, '--dry-run', '--max-backup-age', '2h'])
      assert.equal(strict.code, 1)
      const relaxed = await heroku(['safe-rollback', 'v50', '--app', name, '--dry-run', '--max-backup-age', '6h'])
      assert.equal(relaxed.code, 0, relaxed.stderr)
    })

    it('refuses a malformed --max-backup-age in one line', async () => {
      const {name} = await brokenApp()
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--dry-run', '--max-backup-age', 'soon'])
      assert.equal(result.code, 1)
      assert.match(result.stderr, /^Error: --max-backup-age: Invalid duration "soon"/m)
    })

    it('with --capture-backup, captures and waits for a fresh backup, then rolls back', async () => {
      const {name, database} = await brokenApp({backupAgeMs: null})
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--capture-backup'])
      assert.equal(result.code, 0, result.stderr)
      const captures = sandbox().requests.filter(r => r.method === 'POST' && r.path === `/client/v11/databases/${database!.id}/backups`)
      assert.equal(captures.length, 1)
      const captured = sandbox().state.transfers.filter(t => t._addonId === database!.id && t.succeeded)
      assert.equal(captured.length, 1)
      assert.match(result.stdout, /Steps:\n  1\. Capture a backup of DATABASE/)
      const captureAt = sandbox().requests.indexOf(captures[0])
      assert.ok(captureAt < sandbox().requests.indexOf(rollbackRequests(name)[0]), 'the backup comes before the rollback')
    })

    it('with --skip-backup-check, rolls back with a loud warning', async () => {
      const {name} = await brokenApp({backupAgeMs: null})
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--skip-backup-check'])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stderr, /Backups were not checked \(--skip-backup-check\)/)
      assert.equal(rollbackRequests(name).length, 1)
    })

    it('passes an app without Heroku Postgres with a note', async () => {
      const {name} = await brokenApp({withDatabase: false})
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--dry-run'])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /No Heroku Postgres database is attached: no backup needed/)
    })
  })

  describe('confirmation', () => {
    it('without a terminal and without --confirm, refuses and writes nothing', async () => {
      const {name} = await brokenApp()
      const result = await heroku(['safe-rollback', 'v50', '--app', name])
      assert.equal(result.code, 1)
      assert.match(result.stderr, new RegExp(`Confirmation needs a terminal; pass --confirm ${name}`))
      assert.deepEqual(sandbox().writes(name), [])
    })

    it('refuses a wrong --confirm and writes nothing', async () => {
      const {name} = await brokenApp()
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', 'other-app'])
      assert.equal(result.code, 1)
      assert.match(result.stderr, new RegExp(`^Error: Confirmation "other-app" did not match ${name}\\.`, 'm'))
      assert.deepEqual(sandbox().writes(name), [])
    })
  })

  describe('rolling back', () => {
    it('makes the rollback call, waits for the release phase and the dynos, and prints how to undo', async () => {
      const {name, app} = await brokenApp({releaseCommand: 'npx prisma migrate deploy'})
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name])
      assert.equal(result.code, 0, result.stderr)
      const latest = app.releases.at(-1)!
      assert.equal(latest.version, 53)
      assert.equal(latest.status, 'succeeded')
      assert.ok(latest.current)
      assert.equal(app.config.AWS_S3_KEY, undefined)
      assert.ok(Object.values(app.dynoStates).every(d => d.state === 'up' && d.version === 53))
      assert.match(result.stderr, /Running release command: npx prisma migrate deploy/)
      assert.match(result.stdout, /runs v53 \(rollback to v50\); 3 dyno\(s\) up/)
      assert.match(result.stdout, new RegExp(`To undo: heroku safe-rollback v52 --app ${name}`))
      assert.equal(rollbackRequests(name)[0].headers.accept, 'application/vnd.heroku+json; version=3.sdk')
    })

    it('fails when the release phase fails, saying the app still runs the old release', async () => {
      const {name, app} = await brokenApp({releaseCommand: 'npx prisma migrate deploy'})
      app.faults.releasePhaseFails = true
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name])
      assert.equal(result.code, 1)
      assert.match(result.stderr, /^Error: Release v53 \(rollback to v50\) failed: its release command did not succeed; sr-\S+ still runs v52, the dynos were not switched\./m)
      assert.match(result.stderr, /✗ Roll back to v50 and wait for the release phase and the dynos: failed; nothing was changed/)
      assert.doesNotMatch(result.stderr, /To undo what was done/, 'a failed release phase leaves nothing to undo')
      assert.equal(sandbox().state.currentRelease(app)!.version, 52)
    })

    it('fails when the dynos crash on the new release, with the undo command', async () => {
      const {name, app} = await brokenApp()
      app.faults.dynosCrash = true
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name])
      assert.equal(result.code, 1)
      assert.match(result.stderr, /^Error: Rolled back to v50 as v53, but dynos crashed on v53: web\.1, web\.2, worker\.1\.$/m)
      assert.match(result.stderr, /✗ Roll back to v50 and wait for the release phase and the dynos: failed after its change was made/)
      assert.match(result.stderr, new RegExp(`To undo what was done: \`heroku safe-rollback v52 --app ${name}\``))
    })

    it('gives up after --wait-timeout when the dynos do not come up, and says what state the app is in', async () => {
      const {name, app} = await brokenApp()
      app.faults.dynosNeverStart = true
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--wait-timeout', '2s'])
      assert.equal(result.code, 1)
      assert.match(result.stderr, /^Error: Rolled back to v50 as v53, but its dynos were not all up within 2s\.$/m)
      assert.match(result.stderr, new RegExp(`To undo what was done: \`heroku safe-rollback v52 --app ${name}\``))
    })

    it('--maintenance turns maintenance mode on for the rollback and off afterwards', async () => {
      const {name, app} = await brokenApp()
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--maintenance'])
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(maintenanceRequests(name), [true, false])
      const on = sandbox().requests.findIndex(r => r.method === 'PATCH' && r.path === `/apps/${name}`)
      assert.ok(on < sandbox().requests.indexOf(rollbackRequests(name)[0]))
      assert.equal(app.maintenance, false)
    })

    it('--maintenance ends off when the rollback call fails', async () => {
      const {name, app} = await brokenApp()
      app.faults.rollback = {status: 503, id: 'unavailable', message: 'The API is unavailable.'}
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--maintenance'])
      assert.equal(result.code, 1)
      assert.match(result.stderr, /^Error: Roll back to v50 and wait for the release phase and the dynos failed: The API is unavailable\.$/m)
      assert.match(result.stderr, /↺ Turn maintenance mode on: undone \(turn maintenance mode off; read back\)/)
      assert.match(result.stderr, /✗ Roll back to v50 .*: failed; nothing was changed/)
      assert.equal(app.releases.length, 52)
      assert.deepEqual(maintenanceRequests(name), [true, false])
      assert.equal(app.maintenance, false)
    })

    it('--maintenance ends off when the user presses Ctrl-C during the rollback', async () => {
      const {name, app} = await brokenApp({releaseCommand: 'sleep 5'})
      const delays = sandbox().delays
      const before = delays.releasePhase
      delays.releasePhase = 8000
      try {
        const pending = heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--maintenance'], {signalAfter: {when: () => rollbackRequests(name).length > 0, signal: 'SIGINT'}})
        const result = await pending
        assert.equal(result.code, 130)
        assert.match(result.stderr, /Stopping at the next step; what was done will be put back, or listed with the command that undoes it\./)
        assert.match(result.stderr, /^Error: stopped waiting; v53 \(the rollback\) was requested and may still finish: check `heroku releases --app sr-/m)
        assert.match(result.stderr, /↺ Turn maintenance mode on: undone/)
        assert.deepEqual(maintenanceRequests(name), [true, false])
        assert.equal(app.maintenance, false)
      } finally {
        delays.releasePhase = before
        await sandbox().settle()
      }
    })
  })

  describe('in a terminal', () => {
    const DOWN = '\x1b[B'

    it('offers a picker of recent releases that marks the current one, disables failed ones and says how to deploy an expired one again', async () => {
      const {name, app} = await brokenApp()
      app.releases[48].status = 'failed'
      sandbox().state.expire(app, app.releases[47])
      const expiredCommit = /^Deploy (\w+)$/.exec(app.releases[47].description)![1]
      const result = await interactive(['safe-rollback', '--app', name], [
        {waitFor: /Roll back to which release\?/, send: `${DOWN}\r`},
        {waitFor: /To proceed, type/, send: `${name}\r`},
      ])
      assert.equal(result.code, 0, result.stdout.slice(-1500))
      assert.match(result.stdout, /- v52\s+Set AWS_S3_KEY config vars.*\(current\)/)
      assert.match(result.stdout, /- v49\s+Deploy \w+.*\(failed\)/)
      assert.match(result.stdout, new RegExp(`- v48\\s+Deploy ${expiredCommit}.*\\(expired: deploy ${expiredCommit} again\\)`))
      // The cursor starts on v51 (what releases:rollback would pick); one step down is v50.
      assert.deepEqual(rollbackRequests(name).map(r => r.body.release), [app.releases[49].id])
    })

    it('offers to capture a backup when the gate fails, and captures it when told yes', async () => {
      const {name, database} = await brokenApp({backupAgeMs: null})
      const result = await interactive(['safe-rollback', 'v50', '--app', name], [
        {waitFor: /Capture a fresh backup after the confirmation\?/, send: 'y\r'},
        {waitFor: /To proceed, type/, send: `${name}\r`},
      ])
      assert.equal(result.code, 0, result.stdout.slice(-1500))
      assert.equal(sandbox().requests.filter(r => r.method === 'POST' && r.path === `/client/v11/databases/${database!.id}/backups`).length, 1)
      assert.equal(rollbackRequests(name).length, 1)
    })

    it('refuses when the typed app name is wrong, and writes nothing', async () => {
      const {name} = await brokenApp()
      const result = await interactive(['safe-rollback', 'v50', '--app', name], [{waitFor: /To proceed, type/, send: 'not-the-app\r'}])
      assert.equal(result.code, 1)
      assert.match(result.stdout, new RegExp(`Error: Confirmation "not-the-app" did not match ${name}\\.`))
      assert.deepEqual(sandbox().writes(name), [])
    })
  })

  describe('--dry-run and --json', () => {
    it('--dry-run makes no write request and exits 0 when the rollback would proceed', async () => {
      const {name, app} = await brokenApp()
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--dry-run', '--maintenance', '--capture-backup'])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /Dry run: nothing was changed/)
      assert.deepEqual(sandbox().writes(name), [])
      assert.equal(app.releases.length, 52)
    })

    it('--json prints exactly one JSON document with the target, new release, releases undone, checks, warnings and undo', async () => {
      const {name, app, database} = await brokenApp()
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--json'])
      assert.equal(result.code, 0, result.stderr)
      const report = JSON.parse(result.stdout)
      assert.equal(report.target.version, 50)
      assert.equal(report.newRelease.version, 53)
      assert.deepEqual(report.releasesUndone.map((r: {version: number}) => r.version), [52, 51])
      assert.deepEqual(report.checks.map((c: {name: string, outcome: string}) => `${c.name}:${c.outcome}`), ['release:passed', 'backups:passed', 'schema:skipped'])
      assert.ok(report.warnings.length > 0)
      assert.deepEqual(report.configChanges.removed, ['AWS_S3_KEY'])
      assert.equal(report.undo, `heroku safe-rollback v52 --app ${name}`)
      assertNoSecrets(result, secretsOf(app, [database]))
    })

    it('--json of a blocked rollback is still one document, with the error, and exits non-zero', async () => {
      const {name} = await brokenApp({backupAgeMs: null})
      const result = await heroku(['safe-rollback', 'v50', '--app', name, '--dry-run', '--json'])
      assert.equal(result.code, 1)
      const report = JSON.parse(result.stdout)
      assert.match(report.error.message, /Rollback blocked/)
      assert.equal(report.checks.find((c: {name: string}) => c.name === 'backups').outcome, 'failed')
    })
  })

  describe('secrets', () => {
    it('never prints config var values, database passwords or the API key, even with DEBUG=*', async () => {
      const {name, app, database} = await brokenApp({backupAgeMs: null})
      const runs = await Promise.all([
        heroku(['safe-rollback', 'v50', '--app', name, '--dry-run'], {env: {DEBUG: '*'}}),
        heroku(['safe-rollback', 'v50', '--app', name, '--dry-run', '--json'], {env: {DEBUG: '*'}}),
      ])
      const rolled = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--capture-backup', '--maintenance'], {env: {DEBUG: '*'}})
      assert.equal(rolled.code, 0, rolled.stderr.slice(-2000))
      for (const result of [...runs, rolled]) {
        assert.match(result.stderr, /http/, 'DEBUG output is there to check')
        assertNoSecrets(result, secretsOf(app, [database]))
      }
    })
  })
})

describe('the core CLI is unaffected by the plugin', () => {
  it('runs `heroku releases` the same with and without the plugin linked', async () => {
    const {name} = await brokenApp()
    const [plain, linked] = [await run(['releases', '--app', name]), await heroku(['releases', '--app', name])]
    assert.equal(linked.stdout, plain.stdout)
  })
})
