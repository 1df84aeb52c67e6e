import assert from 'node:assert/strict'
import {appendFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {seedPrismaApp} from '../src/sandbox/seeds/prisma-app.js'
import type {Addon} from '../src/sandbox/index.js'
import {heroku} from './support/heroku.js'
import {prismaProject, removePrismaProjects} from './support/prisma.js'
import {appName, sandbox} from './support/sandbox.js'

const M = {
  init: '20260101000000_init',
  posts: '20260201000000_add_posts',
  bio: '20260301000000_add_user_bio',
  status: '20260401000000_add_post_status',
  widen: '20260501000000_widen_user_name',
}
const USERS = 'INSERT INTO "User" (email, name) VALUES (\'ada@example.com\', \'Ada\'), (\'grace@example.com\', \'Grace\');'

async function seed(options: {applied?: number, seedSql?: string, backupAgeMs?: number | null} = {}) {
  const name = appName('mdown')
  const dir = prismaProject()
  const {app, database} = await seedPrismaApp(sandbox(), name, dir, {releaseCommand: null, seedSql: USERS, ...options})
  sandbox().clearRequests()
  return {name, dir, app, database}
}

// The schema and the migration table, as a snapshot to compare before and after.
async function snapshot(database: Addon) {
  const columns = await sandbox().sql(database, `
    SELECT table_name, column_name, data_type, character_maximum_length FROM information_schema.columns
    WHERE table_schema = 'public' ORDER BY table_name, column_name`)
  const types = await sandbox().sql(database, "SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE nspname = 'public' AND typtype = 'e' ORDER BY 1")
  const indexes = await sandbox().sql(database, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")
  const history = await sandbox().sql(database, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name, started_at')
  return {columns, types, indexes, history}
}

const applied = async (database: Addon) =>
  (await sandbox().sql<{migration_name: string}>(database, 'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY 1')).map(r => r.migration_name)

const columnsOf = async (database: Addon, table: string) =>
  (await sandbox().sql<{column_name: string}>(database, 'SELECT column_name FROM information_schema.columns WHERE table_schema = \'public\' AND table_name = $1 ORDER BY 1', [table])).map(r => r.column_name)

const down = (name: string, dir: string, args: string[], env: Record<string, string> = {}) =>
  heroku(['migrate:down', '--app', name, '--dir', join(dir, 'prisma', 'migrations'), ...args], {env, cwd: dir})

describe('heroku migrate:down', () => {
  after(removePrismaProjects)

  it('reverts the newest migration by default, in one transaction, and deletes its rows from _prisma_migrations', async () => {
    const {name, dir, database} = await seed()
    const result = await down(name, dir, ['--confirm', name])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /Reverted 20260501000000_widen_user_name/)
    assert.match(result.stdout, /reverts schema changes, not data changes/)
    const [{type}] = await sandbox().sql(database, 'SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = \'"User"\'::regclass AND attname = \'name\'')
    assert.equal(type, 'character varying(50)')
    assert.deepEqual(await applied(database), [M.init, M.posts, M.bio, M.status])
    const kept = await sandbox().sql(database, 'SELECT migration_name FROM heroku_migrate_down.reverted_migrations')
    assert.deepEqual(kept.map(r => r.migration_name), [M.widen])
  })

  it('finds prisma/migrations in the current folder, and reverts several steps newest first', async () => {
    const {name, dir, database} = await seed()
    const result = await heroku(['migrate:down', '--app', name, '--steps', '2', '--confirm', name], {cwd: dir})
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /1\. 20260501000000_widen_user_name[\s\S]*2\. 20260401000000_add_post_status/)
    assert.deepEqual(await applied(database), [M.init, M.posts, M.bio])
    assert.deepEqual(await columnsOf(database, 'Post'), ['authorId', 'id', 'title'])
    const types = await sandbox().sql(database, "SELECT 1 FROM pg_type WHERE typname = 'Status'")
    assert.equal(types.length, 0)
  })

  it('reverts everything after --to', async () => {
    const {name, dir, database} = await seed()
    const result = await down(name, dir, ['DATABASE', '--to', M.posts, '--confirm', name])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /on DATABASE \(postgresql-/)
    assert.match(result.stdout, new RegExp(`${M.posts} is now the newest applied migration`))
    assert.deepEqual(await applied(database), [M.init, M.posts])
    assert.deepEqual(await columnsOf(database, 'User'), ['email', 'id', 'name'])
    const kept = await sandbox().sql(database, 'SELECT migration_name, checksum, finished_at FROM heroku_migrate_down.reverted_migrations ORDER BY 1')
    assert.deepEqual(kept.map(r => r.migration_name), [M.bio, M.status, M.widen])
    assert.ok(kept.every(r => r.checksum.length === 64 && r.finished_at))
  })

  it('refuses an unknown --to and a --steps larger than the history, changing nothing', async () => {
    const {name, dir, database} = await seed({applied: 2})
    const before = await snapshot(database)
    const unknown = await down(name, dir, ['--to', M.status, '--confirm', name])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /20260401000000_add_post_status is not an applied migration/)
    const tooMany = await down(name, dir, ['--steps', '3', '--confirm', name])
    assert.equal(tooMany.code, 1)
    assert.match(tooMany.stderr, /more than the 2 applied/)
    assert.deepEqual(await snapshot(database), before)
  })

  it('refuses to drop data that exists, with counts, and goes ahead with --allow-data-loss', async () => {
    const {name, dir, database} = await seed({seedSql: `${USERS}
      UPDATE "User" SET bio = 'writes compilers' WHERE email = 'grace@example.com';
      INSERT INTO "Post" (title, "authorId") SELECT 'post ' || g, 1 FROM generate_series(1, 3) g;
      UPDATE "User" SET name = repeat('x', 60) WHERE email = 'ada@example.com';`})
    const before = await snapshot(database)
    const refused = await down(name, dir, ['--to', M.posts, '--confirm', name])
    assert.equal(refused.code, 1)
    assert.match(refused.stdout, /✗ data-loss +Data would be lost/)
    assert.match(refused.stdout, /narrows column "User"\."name" from text to varchar\(50\): 1 value would not fit/)
    assert.match(refused.stdout, /drops column "Post"\."status": 3 non-null values/)
    assert.match(refused.stdout, /drops column "User"\."bio": 1 non-null value/)
    assert.match(refused.stderr, /Refused by the data-loss check: see the checks above/)
    assert.match(refused.stderr, /Nothing was changed/)
    assert.deepEqual(await snapshot(database), before)

    await sandbox().sql(database, 'UPDATE "User" SET name = \'Ada\' WHERE email = \'ada@example.com\'')
    const allowed = await down(name, dir, ['--to', M.posts, '--allow-data-loss', '--confirm', name])
    assert.equal(allowed.code, 0, allowed.stderr)
    assert.match(allowed.stdout, /! data-loss +Data will be lost/)
    assert.deepEqual(await applied(database), [M.init, M.posts])
  })

  it('reports a dropped table with its row count', async () => {
    const {name, dir} = await seed({seedSql: `${USERS} INSERT INTO "Post" (title, "authorId") SELECT 'p' || g, 1 FROM generate_series(1, 7) g;`})
    const result = await down(name, dir, ['--to', M.init, '--dry-run', '--allow-data-loss'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /drops table "Post": 7 rows/)
  })

  it('rolls everything back when a statement fails midway, naming the statement', async () => {
    const {name, dir, database} = await seed()
    writeFileSync(join(dir, 'prisma', 'migrations', M.status, 'down.sql'), 'DROP INDEX "Post_status_idx";\nALTER TABLE "Post" DROP COLUMN "nope";\nDROP TYPE "Status";\n')
    const before = await snapshot(database)
    // --skip-down-check: the scratch database would refuse this down before the app's database sees it.
    const result = await down(name, dir, ['--steps', '2', '--confirm', name, '--skip-down-check'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /20260401000000_add_post_status: statement 2 failed: column "nope" of relation "Post" does not exist: `ALTER TABLE "Post" DROP COLUMN "nope"`/)
    assert.match(result.stderr, /Nothing was changed: the transaction was rolled back/)
    assert.deepEqual(await snapshot(database), before)
    const history = await sandbox().sql(database, "SELECT to_regclass('heroku_migrate_down.reverted_migrations') AS t")
    assert.equal(history[0].t, null)
  })

  it('refuses a migration.sql that differs from the applied one, unless --ignore-checksum', async () => {
    const {name, dir, database} = await seed()
    appendFileSync(join(dir, 'prisma', 'migrations', M.widen, 'migration.sql'), '\n-- edited after it was applied\n')
    const refused = await down(name, dir, ['--confirm', name])
    assert.equal(refused.code, 1)
    assert.match(refused.stdout, /✗ checksums +20260501000000_widen_user_name: migration\.sql differs from what was applied/)
    assert.equal((await applied(database)).length, 5)
    const ignored = await down(name, dir, ['--confirm', name, '--ignore-checksum'])
    assert.equal(ignored.code, 0, ignored.stderr)
    assert.match(ignored.stdout, /! checksums +.*--ignore-checksum/)
    assert.equal((await applied(database)).length, 4)
  })

  it('accepts a migration.sql whose line endings were converted, as Prisma does', async () => {
    const {name, dir, database} = await seed()
    const file = join(dir, 'prisma', 'migrations', M.widen, 'migration.sql')
    writeFileSync(file, '-- AlterTable\r\nALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE TEXT;\r\n')
    const result = await down(name, dir, ['--confirm', name])
    assert.equal(result.code, 0, result.stderr)
    assert.equal((await applied(database)).length, 4)
  })

  it('--dry-run prints the SQL and every check, and writes nothing', async () => {
    const {name, dir, database} = await seed()
    const before = await snapshot(database)
    const result = await down(name, dir, ['--steps', '3', '--dry-run'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /ALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE VARCHAR\(50\);/)
    assert.match(result.stdout, /DROP TYPE "Status";/)
    for (const check of ['history', 'order', 'checksums', 'down-sql', 'transaction', 'down-check', 'data-loss', 'backups', 'schema-only']) {
      assert.match(result.stdout, new RegExp(`^  [✓!] ${check} +\\S`, 'm'), `${check}\n${result.stdout}`)
    }
    assert.match(result.stdout, /Dry run: nothing was changed/)
    assert.deepEqual(sandbox().writes(name), [])
    assert.deepEqual(await snapshot(database), before)
  })

  it('--json prints exactly one JSON document, for a revert and for a refusal', async () => {
    const {name, dir, database} = await seed()
    const ok = await down(name, dir, ['--confirm', name, '--json'])
    assert.equal(ok.code, 0, ok.stderr)
    const doc = JSON.parse(ok.stdout)
    assert.equal(doc.applied, true)
    assert.deepEqual(doc.result.reverted, [M.widen])
    assert.equal(doc.result.deletedRows[0].migration_name, M.widen)
    assert.equal(doc.plan.steps[0].statements[0], 'ALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE VARCHAR(50)')

    await sandbox().sql(database, 'UPDATE "User" SET bio = \'x\'')
    const refused = await down(name, dir, ['--confirm', name, '--json', '--steps', '2'])
    assert.equal(refused.code, 1)
    const error = JSON.parse(refused.stdout)
    assert.match(error.error.message, /data-loss/)
    assert.equal(error.plan.checks.find((c: {name: string}) => c.name === 'data-loss').outcome, 'failed')
  })

  it('refuses without --confirm when there is no terminal, and with the wrong app name', async () => {
    const {name, dir, database} = await seed()
    const before = await snapshot(database)
    const missing = await down(name, dir, [])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, new RegExp(`Confirmation needs a terminal; pass --confirm ${name}`))
    const wrong = await down(name, dir, ['--confirm', 'some-other-app'])
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /Confirmation "some-other-app" did not match/)
    assert.deepEqual(await snapshot(database), before)
    assert.deepEqual(sandbox().writes(name), [])
  })

  it('applies the backup gate: a stale backup refuses, --capture-backup captures one first', async () => {
    const {name, dir, database} = await seed({backupAgeMs: 3 * 24 * 3_600_000})
    const refused = await down(name, dir, ['--confirm', name])
    assert.equal(refused.code, 1)
    assert.match(refused.stdout, /✗ backups +.*newest good backup a\d+ is 3d old \(limit 1d\)/)
    assert.equal((await applied(database)).length, 5)
    const captured = await down(name, dir, ['--confirm', name, '--capture-backup'])
    assert.equal(captured.code, 0, captured.stderr)
    assert.ok(sandbox().writes(name).some(r => r.method === 'POST' && r.path.endsWith('/backups')))
    assert.equal((await applied(database)).length, 4)
    const skipped = await down(name, dir, ['--confirm', name, '--skip-backup-check', '--max-backup-age', '1h'])
    assert.equal(skipped.code, 0, skipped.stderr)
    assert.match(skipped.stdout, /! backups +Skipped with --skip-backup-check/)
  })

  it('reports a failed migration in the history with what to do about it', async () => {
    const {name, dir, database} = await seed()
    await sandbox().sql(database, `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count)
      VALUES ('4f1c1a52-0000-4000-8000-000000000001', repeat('a', 64), '20260601000000_broken', 'ERROR: boom', now(), 0)`)
    const result = await down(name, dir, ['--confirm', name])
    assert.equal(result.code, 1)
    assert.match(result.stdout, /✗ history +20260601000000_broken failed .* may be half-applied: .*npx prisma migrate resolve --rolled-back 20260601000000_broken/)
    assert.equal((await applied(database)).length, 5)
  })

  it('refuses statements that cannot run inside a transaction', async () => {
    const {name, dir} = await seed()
    writeFileSync(join(dir, 'prisma', 'migrations', M.widen, 'down.sql'), 'DROP INDEX CONCURRENTLY "User_email_key";\n')
    const result = await down(name, dir, ['--confirm', name])
    assert.equal(result.code, 1)
    assert.match(result.stdout, /✗ transaction +.*DROP INDEX CONCURRENTLY "User_email_key".*cannot run inside a transaction/)
  })

  it('waits at most --lock-timeout for Prisma\'s migration lock and then changes nothing', async () => {
    const {name, dir, database} = await seed()
    const {default: pg} = await import('pg')
    const holder = new pg.Client({connectionString: database._database!.url})
    await holder.connect()
    try {
      await holder.query('SELECT pg_advisory_lock(72707369)')
      const before = await snapshot(database)
      const result = await down(name, dir, ['--confirm', name, '--lock-timeout', '1s'])
      assert.equal(result.code, 1)
      assert.match(result.stderr, /holds Prisma's migration lock; waited 1000ms/)
      assert.match(result.stderr, /Nothing was changed/)
      assert.deepEqual(await snapshot(database), before)
    } finally {
      await holder.end()
    }
  })

  it('refuses a migration without down.sql when no Prisma CLI can generate one, and says how to write it', async () => {
    const {name, dir} = await seed()
    rmSync(join(dir, 'prisma', 'migrations', M.widen, 'down.sql'))
    const result = await down(name, dir, ['--confirm', name])
    assert.equal(result.code, 1)
    assert.match(result.stdout, /✗ down-sql +20260501000000_widen_user_name has no down\.sql, and no Prisma CLI is installed in the project to generate one\. Write it by hand beside migration\.sql as down\.sql/)
  })

  it('prints no secret (database password, API key), even with DEBUG=*', async () => {
    const {name, dir, database} = await seed()
    writeFileSync(join(dir, 'prisma', 'migrations', M.widen, 'down.sql'), 'SELECT 1/0;\n')
    const secrets = [database._database!.password, sandbox().apiKey]
    const runs = [
      await down(name, dir, ['--dry-run'], {DEBUG: '*'}),
      await down(name, dir, ['--confirm', name, '--skip-down-check'], {DEBUG: '*'}),
      await down(name, dir, ['--confirm', name, '--json', '--skip-down-check'], {DEBUG: '*'}),
      await heroku(['migrate:down', '--app', name, '--dir', join(dir, 'nope'), '--confirm', name], {env: {DEBUG: '*'}}),
    ]
    assert.match(runs[1].stderr, /division by zero/)
    assert.match(runs[0].stderr, /oclif:config/, 'DEBUG output was on')
    for (const run of runs) {
      for (const secret of secrets) {
        assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'a secret was printed')
      }
    }
  })

  it('honours sslmode in the database URL', async () => {
    const {name, dir, app} = await seed()
    const url = app.config.DATABASE_URL
    app.config.DATABASE_URL = `${url}?sslmode=require`
    const required = await down(name, dir, ['--dry-run'])
    assert.equal(required.code, 1)
    assert.match(required.stderr, /The server does not support SSL connections/)
    app.config.DATABASE_URL = `${url}?sslmode=disable`
    const disabled = await down(name, dir, ['--dry-run'])
    assert.equal(disabled.code, 0, disabled.stderr)
  })

  it('gives up on a busy table after --lock-timeout, and on a long statement after --statement-timeout', async () => {
    const {name, dir, database} = await seed()
    const {default: pg} = await import('pg')
    const reader = new pg.Client({connectionString: database._database!.url})
    await reader.connect()
    const before = await snapshot(database)
    try {
      await reader.query('BEGIN; SELECT * FROM "User" LIMIT 1')
      const locked = await down(name, dir, ['--confirm', name, '--lock-timeout', '1s'])
      assert.equal(locked.code, 1)
      assert.match(locked.stderr, /statement 1 failed: could not get a lock within --lock-timeout 1000ms/)
    } finally {
      await reader.query('ROLLBACK')
      await reader.end()
    }
    writeFileSync(join(dir, 'prisma', 'migrations', M.widen, 'down.sql'), 'ALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE VARCHAR(50);\nSELECT pg_sleep(5);\n')
    const slow = await down(name, dir, ['--confirm', name, '--statement-timeout', '1s'])
    assert.equal(slow.code, 1)
    assert.match(slow.stderr, /statement 2 failed: cancelled by --statement-timeout/)
    assert.match(slow.stderr, /Nothing was changed/)
    assert.deepEqual(await snapshot(database), before)
  })

  it('refuses a malformed duration before touching the app', async () => {
    const {name, dir} = await seed()
    const result = await down(name, dir, ['--dry-run', '--lock-timeout', 'soon'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /--lock-timeout: Invalid duration "soon"/)
    assert.deepEqual(sandbox().requests.filter(r => r.path.includes(name)), [])
  })
})
