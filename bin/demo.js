#!/usr/bin/env node
// The whole flow on the local sandbox: an app whose last deploy broke, rolled back safely.
// Run with `npm run demo` (it builds first). Nothing here touches a real Heroku account.
import {cpSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Sandbox} from '../dist/sandbox/index.js'
import {PostgresSetupError} from '../dist/sandbox/heroku/postgres.js'
import {HerokuCli} from '../dist/tools/heroku-cli.js'
import {seedBrokenApp} from '../dist/sandbox/seeds/broken-app.js'
import {DEMO_ROWS, PRISMA_FIXTURE, seedPrismaApp} from '../dist/sandbox/seeds/prisma-app.js'
import {seedDataLoss} from '../dist/sandbox/seeds/data-loss.js'
import {seedMissingUploads} from '../dist/sandbox/seeds/uploads.js'
import {DEMO_HISTORY, seedSchemaHistory} from '../dist/sandbox/seeds/schema-history.js'

const app = 'acme-shop'
const started = Date.now()
const say = text => process.stdout.write(`\n\x1b[1m# ${text}\x1b[0m\n`)
const sandbox = await Sandbox.start().catch(error => {
  if (!(error instanceof PostgresSetupError)) throw error
  process.stderr.write(`${error.message}\n`)
  process.exit(1)
})
const cli = new HerokuCli(sandbox)
const cleanups = []

async function step(title, args, {expectFailure = false, cwd} = {}) {
  say(title)
  const shown = args.map(arg => (/[\s*()]/.test(arg) ? `'${arg}'` : arg)).join(' ')
  process.stdout.write(`${cwd ? `(in ${cwd})\n` : ''}$ heroku ${shown}\n`)
  const result = await cli.heroku(args, {echo: true, cwd})
  if ((result.code === 0) === expectFailure) throw new Error(`heroku ${args.join(' ')} exited ${result.code}`)
}

try {
  say(`Starting the sandbox (Platform API and Postgres Data API on ${sandbox.url}, PostgreSQL on port ${sandbox.pg.port})`)
  await seedBrokenApp(sandbox, app, {backupAgeMs: 30 * 3600 * 1000})
  await cli.link()
  await step('The deploy at v51 broke the app. What happened?', ['releases', '--app', app, '--num', '5'])
  await step('Preview a rollback to the last good deploy; the last backup is 30 hours old, so the gate blocks it', ['safe-rollback', 'v50', '--app', app, '--dry-run'], {expectFailure: true})
  await step('Roll back for real: capture a fresh backup, maintenance mode on during the switch, then 20 s of its requests watched', ['safe-rollback', 'v50', '--app', app, '--confirm', app, '--capture-backup', '--maintenance', '--health-window', '20s'])
  await step('The app runs the old code and config again', ['releases', '--app', app, '--num', '3'])

  say('Critical data loss on acme-db: a bad DELETE wiped 40 of its 60 customers')
  const loss = await seedDataLoss(sandbox, 'acme-db')
  say('Meanwhile, after the DELETE, three customers signed up and one changed her email: writes a recovery would lose')
  await sandbox.sql(loss.database, "INSERT INTO customers (email) SELECT 'signup' || g || '@example.com' FROM generate_series(1, 3) g; UPDATE customers SET email = 'new-address@example.com' WHERE id = 4")
  const verify = ['--verify', 'SELECT count(*) = 60 FROM customers']
  await step('Rehearse first: restore the backup into a scratch database, check it, throw it away', ['db:recover', '--app', 'acme-db', '--backup', loss.backup, '--drill', ...verify, '--confirm', 'acme-db'])
  await step('Recover: point-in-time rollback to just before the DELETE, verified, sequences fenced, then promoted', ['db:recover', '--app', 'acme-db', '--to', loss.beforeLoss, ...verify, '--scale-down-workers', '--skip-health-check', '--confirm', 'acme-db'])
  const old = sandbox.state.attachmentsOf(sandbox.state.app('acme-db')).find(a => a.addon.id === loss.database.id && a.name !== 'DATABASE').name
  const out = mkdtempSync(join(tmpdir(), 'demo-reconcile-'))
  await step('Compare the old database with the recovered one: counts on the terminal, rows in a private folder', ['db:reconcile', '--app', 'acme-db', '--from', old, '--since', loss.beforeLoss, '--out', join(out, 'compare')])
  await step('Carry the writes made after the recovery point over, in one transaction (the deleted rows stay deleted)', ['db:reconcile', '--app', 'acme-db', '--from', old, '--since', loss.beforeLoss, '--out', join(out, 'apply'), '--apply', '--confirm', 'acme-db'])
  rmSync(out, {recursive: true, force: true})

  say('Missing uploaded files on acme-files: a cleanup job deleted avatars in its Bucketeer bucket (the sandbox serves S3 too)')
  const uploads = seedMissingUploads(sandbox, sandbox.createApp('acme-files'))
  await step('How far back can its files be recovered? Versioning is on; no rule bounds how long old versions are kept', ['files:protect', '--app', 'acme-files'])
  await step('Preview: per file, its state an hour ago against now (deleted, overwritten, created since)', ['files:recover', '--app', 'acme-files', '--to', uploads.recoverTo, '--dry-run'])
  await step('Put the deleted files back exactly (delete markers removed, one file was deleted twice); new uploads stay', ['files:recover', '--app', 'acme-files', '--to', uploads.recoverTo, '--confirm', 'acme-files'])
  const same = uploads.deleted.every(key => sandbox.s3.current(uploads.bucket, key)?.equals(uploads.before.get(key)))
  say(`Every deleted file is back, byte for byte: ${same ? 'yes' : 'NO'}`)
  if (!same) throw new Error('the recovered files differ from the versions of that time')

  say('Prove the down migrations before an incident needs them, as CI would (no app, no login)')
  const broken = mkdtempSync(join(tmpdir(), 'demo-check-'))
  cpSync(PRISMA_FIXTURE, broken, {recursive: true})
  writeFileSync(join(broken, 'prisma', 'migrations', '20260401000000_add_post_status', 'down.sql'), 'DROP INDEX "Post_status_idx";\nALTER TABLE "Post" DROP COLUMN "status";\n')
  await step('A down.sql that forgets to drop the "Status" enum is caught on a throwaway in-process PostgreSQL', ['migrate:check'], {expectFailure: true, cwd: broken})
  rmSync(broken, {recursive: true, force: true})
  await step('The project\'s own downs all revert exactly, even with rows in every table', ['migrate:check', '--data'], {cwd: PRISMA_FIXTURE})

  say('Unwanted Prisma migrations on acme-api (run from its Prisma project folder)')
  await seedPrismaApp(sandbox, 'acme-api', PRISMA_FIXTURE, {releaseCommand: null, seedSql: DEMO_ROWS})
  await step('Preview reverting 3 migrations: add_user_bio would drop a bio that exists, so it is refused', ['migrate:down', '--app', 'acme-api', '--steps', '3', '--dry-run'], {expectFailure: true, cwd: PRISMA_FIXTURE})
  await step('Revert the last 2 in one transaction; _prisma_migrations is updated as Prisma reads it', ['migrate:down', '--app', 'acme-api', '--steps', '2', '--confirm', 'acme-api'], {cwd: PRISMA_FIXTURE})
  say('A code rollback across a schema change on acme-web (run from its git repository)')
  const repo = mkdtempSync(join(tmpdir(), 'acme-web-'))
  cleanups.push(() => rmSync(repo, {recursive: true, force: true}))
  await seedSchemaHistory(sandbox, 'acme-web', {dir: repo, versions: DEMO_HISTORY})
  await step('v53\'s code still maps User.bio, which v54 dropped: the schema gate blocks the rollback and names the floor', ['safe-rollback', 'v53', '--app', 'acme-web', '--dry-run'], {expectFailure: true, cwd: repo})
  await step('One coupled plan: revert the migrations v53 does not know, then roll back (re-applied if the rollback fails)', ['safe-rollback', 'v53', '--app', 'acme-web', '--with-migrations', '--skip-health-check', '--confirm', 'acme-web'], {cwd: repo})
  say(`Done in ${((Date.now() - started) / 1000).toFixed(1)}s.`)
} finally {
  await sandbox.stop()
  for (const cleanup of cleanups) cleanup()
}
