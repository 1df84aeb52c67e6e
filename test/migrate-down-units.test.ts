import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import pg from 'pg'
import {checksumOf, matchesChecksum} from '../src/lib/migrations/checksum.js'
import {clientConfigs, connectUrl, schemaOf} from '../src/lib/postgres/connect.js'
import {isWidening, lossyOperations, measureLoss} from '../src/lib/migrations/data-loss.js'
import {diffCommand, downSqlFor, findPrismaCli} from '../src/lib/migrations/down-sql.js'
import type {HistoryRow} from '../src/lib/migrations/history.js'
import {selectReverts} from '../src/lib/migrations/plan.js'
import {findMigrationsDir, LocalMigration, readLocalMigrations} from '../src/lib/migrations/project.js'
import {nonTransactionalReason, parseStatements} from '../src/lib/migrations/statements.js'
import {sandbox} from './support/sandbox.js'

const temps: string[] = []
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdown-unit-'))
  temps.push(dir)
  return dir
}

function write(root: string, files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), {recursive: true})
    writeFileSync(join(root, path), text)
  }
  return root
}

// Fixtures as factories: a history row as `prisma migrate deploy` leaves it, overridable per test.
const row = (name: string, fields: Partial<HistoryRow> = {}): HistoryRow => ({
  id: `id-${name}`, checksum: checksumOf(`-- ${name}\n`), finished_at: new Date('2026-01-01T00:00:01Z'), migration_name: name,
  logs: null, rolled_back_at: null, started_at: new Date('2026-01-01T00:00:00Z'), applied_steps_count: 1, ...fields,
})
const local = (name: string, downSql: string | undefined = 'SELECT 1;'): LocalMigration => ({name, dir: `/m/${name}`, sql: `-- ${name}\n`, downSql})

describe('migrate:down, module by module', () => {
  after(() => {
    for (const dir of temps) rmSync(dir, {recursive: true, force: true})
  })

  describe('checksums', () => {
    it('is the sha256 of the exact text, and accepts converted line endings as Prisma does', () => {
      assert.match(checksumOf('x'), /^[0-9a-f]{64}$/)
      assert.equal(checksumOf('x'), '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881')
      assert.ok(matchesChecksum('a\r\nb\r\n', checksumOf('a\nb\n')))
      assert.ok(matchesChecksum('a\nb\n', checksumOf('a\r\nb\r\n')))
      assert.ok(!matchesChecksum('a\nb\n ', checksumOf('a\nb\n')))
    })

    it('accepts the unpadded checksums an early Prisma engine wrote', () => {
      const text = 'SELECT 1;\n'
      const digest = createHash('sha256').update(text).digest()
      const unpadded = [...digest].map(byte => byte.toString(16)).join('')
      assert.ok(unpadded.length < 64, 'this text\'s digest has a byte below 0x10')
      assert.ok(matchesChecksum(text, unpadded))
      assert.ok(!matchesChecksum('SELECT 2;\n', unpadded))
    })
  })

  describe('finding the migrations folder', () => {
    it('reads migrations.path from prisma.config.ts', () => {
      const dir = write(temp(), {'prisma.config.ts': "import {defineConfig} from 'prisma/config'\nexport default defineConfig({\n  schema: 'db/schema.prisma',\n  migrations: {\n    path: 'db/history',\n  },\n})\n", 'db/history/.keep': ''})
      assert.deepEqual(findMigrationsDir(dir), {path: join(dir, 'db/history'), source: `migrations.path in ${join(dir, 'prisma.config.ts')}`})
    })

    it('puts migrations beside the schema named in prisma.config.ts or package.json, file or folder', () => {
      const config = write(temp(), {'prisma.config.ts': "export default {schema: 'db/schema.prisma'}\n", 'db/migrations/.keep': ''})
      assert.equal(findMigrationsDir(config).path, join(config, 'db/migrations'))
      const pkg = write(temp(), {'package.json': JSON.stringify({prisma: {schema: 'src/prisma'}}), 'src/prisma/models.prisma': '', 'src/prisma/migrations/.keep': ''})
      assert.equal(findMigrationsDir(pkg).path, join(pkg, 'src/prisma/migrations'))
    })

    it('defaults to prisma/migrations, lets --dir win, and refuses a missing folder', () => {
      const dir = write(temp(), {'prisma/migrations/.keep': '', 'other/.keep': '', 'prisma.config.ts': "export default {migrations: {path: 'nope'}}"})
      assert.equal(findMigrationsDir(dir, 'other').path, join(dir, 'other'))
      assert.throws(() => findMigrationsDir(dir), /No Prisma migrations folder at .*nope \(from migrations\.path in/)
      const plain = write(temp(), {'prisma/migrations/.keep': ''})
      assert.deepEqual(findMigrationsDir(plain), {path: join(plain, 'prisma/migrations'), source: 'the default prisma/migrations'})
    })

    it('reads the migrations sorted by name, with their down.sql, and refuses another provider', () => {
      const dir = write(temp(), {'b_second/migration.sql': 'B', 'a_first/migration.sql': 'A', 'a_first/down.sql': 'dA', 'notes/readme.md': '', 'migration_lock.toml': 'provider = "postgresql"'})
      assert.deepEqual(readLocalMigrations(dir).map(m => [m.name, m.sql, m.downSql]), [['a_first', 'A', 'dA'], ['b_second', 'B', undefined]])
      write(dir, {'migration_lock.toml': 'provider = "mysql"'})
      assert.throws(() => readLocalMigrations(dir), /for mysql/)
    })
  })

  describe('statements', () => {
    it('splits at the parser\'s boundaries: function bodies, strings, comments and multi-byte text', async () => {
      const sql = "-- DropTable\nDROP TABLE \"Über\";\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nINSERT INTO t VALUES ('a;b');\n/* done */"
      const statements = await parseStatements(sql, 'down.sql')
      assert.deepEqual(statements.map(s => s.text), ['DROP TABLE "Über"', 'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql', "INSERT INTO t VALUES ('a;b')"])
      assert.deepEqual(statements.map(s => s.kind), ['DropStmt', 'CreateFunctionStmt', 'InsertStmt'])
    })

    it('refuses SQL that PostgreSQL cannot parse, naming the file', async () => {
      await assert.rejects(parseStatements('DROP TABEL x;', '/p/down.sql'), /\/p\/down\.sql is not valid PostgreSQL: syntax error/)
    })

    it('finds every statement that cannot run in a transaction', async () => {
      const refused = ['CREATE INDEX CONCURRENTLY i ON t (x)', 'DROP INDEX CONCURRENTLY i', 'REINDEX INDEX CONCURRENTLY i', 'ALTER TABLE p DETACH PARTITION c CONCURRENTLY',
        'CREATE DATABASE d', 'DROP DATABASE d', "CREATE TABLESPACE s LOCATION '/x'", 'DROP TABLESPACE s', 'VACUUM t', "ALTER SYSTEM SET work_mem = '1MB'", 'CLUSTER', 'COMMIT', 'BEGIN']
      for (const sql of refused) {
        const [statement] = await parseStatements(sql, 'x')
        assert.ok(nonTransactionalReason(statement), sql)
      }
      const allowed = ['CREATE INDEX i ON t (x)', 'DROP INDEX i', 'REINDEX INDEX i', 'CLUSTER t USING i', "ALTER TYPE e ADD VALUE 'x'", 'ALTER TABLE p DETACH PARTITION c']
      for (const sql of allowed) {
        const [statement] = await parseStatements(sql, 'x')
        assert.equal(nonTransactionalReason(statement), undefined, sql)
      }
    })
  })

  describe('data loss', () => {
    it('finds the lossy operations in the parse tree, and only those', async () => {
      const sql = `DROP TABLE "Post", s."Log" CASCADE; ALTER TABLE "User" DROP COLUMN "bio", ADD COLUMN x int, ALTER COLUMN "name" TYPE varchar(10);
        DROP SCHEMA audit CASCADE; DROP SCHEMA empty; DROP TYPE "Status" CASCADE; DROP TYPE "Other"; TRUNCATE "Session"; DROP INDEX "i"; CREATE TABLE keep (id int);`
      const ops = lossyOperations('m1', await parseStatements(sql, 'x'))
      assert.deepEqual(ops.map(({statement: _, migration: __, ...op}) => op), [
        {kind: 'drop-table', table: '"Post"', cascade: true},
        {kind: 'drop-table', table: '"s"."Log"', cascade: true},
        {kind: 'drop-column', table: '"User"', column: 'bio', cascade: false},
        {kind: 'alter-type', table: '"User"', column: 'name', to: {name: 'varchar', mods: [10], text: 'varchar(10)'}},
        {kind: 'drop-schema', schema: 'audit'},
        {kind: 'drop-type', type: '"Status"'},
        {kind: 'truncate', table: '"Session"'},
      ])
    })

    it('tells widening type changes from narrowing ones', () => {
      const t = (typname: string, typmod = -1) => ({typname, typmod, formatted: typname})
      const to = (name: string, ...mods: number[]) => ({name, mods, text: name})
      assert.ok(isWidening(t('int4'), to('int8')))
      assert.ok(isWidening(t('varchar', 14), to('varchar', 20)))
      assert.ok(isWidening(t('varchar', 14), to('text')))
      assert.ok(isWidening(t('numeric', ((5 << 16) | 2) + 4), to('numeric', 7, 2)))
      assert.ok(!isWidening(t('int8'), to('int4')))
      assert.ok(!isWidening(t('text'), to('varchar', 50)))
      assert.ok(!isWidening(t('varchar', 54), to('varchar', 10)))
      assert.ok(!isWidening(t('numeric', ((7 << 16) | 2) + 4), to('numeric', 7, 1)))
      assert.ok(!isWidening(t('text'), to('int4')))
    })

    describe('on live data', () => {
      let client: pg.Client
      before(async () => {
        const name = `dl${Date.now()}`
        const {role, password} = await sandbox().pg.createDatabase(name)
        client = new pg.Client({connectionString: sandbox().pg.urlFor(name, role, password)})
        await client.connect()
        await client.query(`
          CREATE TYPE mood AS ENUM ('ok', 'meh');
          CREATE TABLE big (id int8 PRIMARY KEY, note text, empty text, m mood, moods mood[], amount numeric(10,2));
          INSERT INTO big SELECT g, CASE WHEN g % 2 = 0 THEN 'n' || g END, NULL, 'ok', NULL, g / 100.0 FROM generate_series(1, 150000) g;
          INSERT INTO big VALUES (9999999999, 'huge', NULL, NULL, ARRAY['meh']::mood[], 12345678.91);
          ANALYZE big;
          CREATE TABLE tiny (id int); CREATE VIEW tiny_v AS SELECT * FROM tiny; CREATE MATERIALIZED VIEW big_m AS SELECT id FROM big WHERE id < 4;
          CREATE SCHEMA audit; CREATE TABLE audit.log (id int); INSERT INTO audit.log VALUES (1), (2);`)
      })
      after(() => client.end())

      const measure = async (sql: string) => measureLoss(client, lossyOperations('m', await parseStatements(sql, 'x')))

      it('caps row counts and adds the planner\'s estimate on large tables', async () => {
        const [finding] = await measure('DROP TABLE big')
        assert.equal(finding.loses, true)
        assert.equal(finding.atLeast, true)
        assert.equal(finding.count, 100_000)
        assert.ok(finding.estimate! > 140_000, String(finding.estimate))
        assert.match(finding.detail, /drops table big: at least 100,000 rows \(about 150,\d{3} by the planner's estimate\)/)
      })

      it('counts non-null values of a dropped column, and sees an empty column and table as no loss', async () => {
        const [notes, empty, tiny, missing] = await measure('ALTER TABLE big DROP COLUMN note, DROP COLUMN empty; DROP TABLE tiny; DROP TABLE IF EXISTS nope')
        assert.match(notes.detail, /drops column big\."note": 75,001 non-null values/)
        assert.equal(empty.loses, false)
        assert.equal(tiny.loses, false)
        assert.match(missing.detail, /does not exist now/)
      })

      it('counts the values a narrowing type change would not keep', async () => {
        const [ints, numbers, text, widened] = await measure('ALTER TABLE big ALTER COLUMN id TYPE int4, ALTER COLUMN amount TYPE numeric(6,2), ALTER COLUMN note TYPE varchar(3), ALTER COLUMN id TYPE numeric')
        assert.match(ints.detail, /narrows column big\."id" from bigint to int4: 1 value would not fit/)
        assert.match(numbers.detail, /1 value would not fit/)
        assert.equal(text.loses, true)
        assert.equal(text.count, 74_952)
        assert.equal(widened, undefined)
      })

      it('assumes the worst when a check cannot finish in time', async () => {
        const [finding] = await measureLoss(client, lossyOperations('m', await parseStatements('ALTER TABLE big DROP COLUMN empty', 'x')), '1ms')
        assert.equal(finding.loses, true)
        assert.match(finding.detail, /could not measure table "big" within 1ms: assuming data would be lost/)
        const {rows: [setting]} = await client.query('SHOW statement_timeout')
        assert.equal(setting.statement_timeout, '0')
      })

      it('follows CASCADE: columns of a dropped type, tables of a dropped schema, views and materialized views', async () => {
        const typed = await measure('DROP TYPE mood CASCADE')
        assert.deepEqual(typed.map(f => [f.target, f.count]), [['column big."m"', 100_000], ['column big."moods"', 1]])
        const [log] = await measure('DROP SCHEMA audit CASCADE')
        assert.match(log.detail, /drops table audit\.log: 2 rows/)
        const tiny = await measure('DROP TABLE tiny CASCADE')
        assert.match(tiny[1].detail, /CASCADE also drops view tiny_v/)
        const big = await measure('DROP TABLE big CASCADE')
        assert.match(big[1].detail, /CASCADE also drops materialized view big_m: 3 rows/)
      })
    })
  })

  describe('choosing what to revert', () => {
    const names = ['m1', 'm2', 'm3', 'm4']
    const rows = names.map(n => row(n))
    const locals = names.map(n => local(n))

    it('takes the newest applied ones, newest first, by --steps or --to', () => {
      assert.deepEqual(selectReverts(locals, rows, {}).revert.map(m => m.name), ['m4'])
      assert.deepEqual(selectReverts(locals, rows, {steps: 3}).revert.map(m => m.name), ['m4', 'm3', 'm2'])
      const to = selectReverts(locals, rows, {to: 'm2'})
      assert.deepEqual(to.revert.map(m => m.name), ['m4', 'm3'])
      assert.equal(to.keep, 'm2')
      assert.deepEqual(selectReverts(locals, rows, {to: 'm4'}).revert, [])
      assert.throws(() => selectReverts(locals, rows, {steps: 5}), /more than the 4 applied/)
    })

    it('reads Prisma\'s rows: rolled-back rows do not count, a failed row blocks with advice', () => {
      const history = [...rows.slice(0, 3), row('m4', {rolled_back_at: new Date(), finished_at: null}), row('m4', {id: 'again'})]
      assert.deepEqual(selectReverts(locals, history, {steps: 1}).revert.map(m => m.name), ['m4'])
      const rolledBack = [...rows.slice(0, 3), row('m4', {rolled_back_at: new Date(), finished_at: null})]
      assert.deepEqual(selectReverts(locals, rolledBack, {}).revert.map(m => m.name), ['m3'])
      const failed = selectReverts(locals, [...rows, row('m5', {finished_at: null})], {})
      assert.equal(failed.checks.find(c => c.name === 'history')?.outcome, 'failed')
      assert.match(failed.checks[0].detail, /m5 failed .*`npx prisma migrate resolve --rolled-back m5`/)
    })

    it('refuses a migration missing from the folder, and warns about an unapplied one below the newest', () => {
      assert.throws(() => selectReverts(locals.slice(0, 3), rows, {}), /m4 is applied in the database but not in the local migrations folder: run this from a checkout that has it\./)
      assert.throws(() => selectReverts([locals[0], locals[3]], rows, {steps: 3}), /m2, m3 are applied in the database but not in the local migrations folder/)
      const gap = selectReverts(locals, [row('m1'), row('m3'), row('m4')], {})
      const order = gap.checks.find(c => c.name === 'order')!
      assert.equal(order.outcome, 'warning')
      assert.match(order.detail, /m2 is in the folder but not applied/)
    })
  })

  describe('connections', () => {
    it('honours sslmode, trying TLS first when there is none', () => {
      const ssl = (url: string) => clientConfigs(url).map(c => c.ssl)
      assert.deepEqual(ssl('postgres://u:p@h:5432/d'), [{rejectUnauthorized: false}, false])
      assert.deepEqual(ssl('postgres://u:p@h/d?sslmode=require'), [{rejectUnauthorized: false}])
      assert.deepEqual(ssl('postgres://u:p@h/d?sslmode=disable'), [false])
      assert.deepEqual(ssl('postgres://u:p@h/d?sslmode=verify-full'), [{rejectUnauthorized: true}])
      assert.equal(schemaOf('postgres://u:p@h/d?schema=app'), 'app')
      assert.equal(schemaOf('postgres://u:p@h/d'), 'public')
    })

    it('connects to a server without TLS unless the URL requires it', async () => {
      const url = sandbox().pg.adminUrl()
      const client = await connectUrl(url)
      await client.end()
      await assert.rejects(connectUrl(`${url}?sslmode=require`), /does not support SSL/)
    })
  })

  describe('down SQL from Prisma', () => {
    it('builds the diff between the migration states, with the shadow database only where Prisma 6 takes it', () => {
      assert.deepEqual(diffCommand({bin: 'prisma', version: '6.19.0', major: 6}, '/w', '/wo', 'postgres://s'), ['migrate', 'diff', '--from-migrations', '/w', '--to-migrations', '/wo', '--script', '--shadow-database-url', 'postgres://s'])
      assert.deepEqual(diffCommand({bin: 'prisma', version: '7.1.0', major: 7}, '/w', '/wo'), ['migrate', 'diff', '--from-migrations', '/w', '--to-migrations', '/wo', '--script'])
    })

    it('explains what is missing when it cannot generate', async () => {
      const m = {...local('m2'), downSql: undefined}
      const all = [local('m1'), m]
      const opts = {projectDir: '/p', migrationsDir: '/p/prisma/migrations'}
      assert.match((await downSqlFor(m, all, opts) as {reason: string}).reason, /no Prisma CLI is installed/)
      assert.match((await downSqlFor(m, all, {...opts, prisma: {bin: 'x', version: '6.19.0', major: 6}}) as {reason: string}).reason, /needs an empty scratch database: set SHADOW_DATABASE_URL to one/)
      assert.deepEqual(await downSqlFor(all[0], all, opts), {kind: 'file', path: '/m/m1/down.sql', sql: 'SELECT 1;'})
    })

    it('runs Prisma 7 with SHADOW_DATABASE_URL set, leaving the shadow database to prisma.config.ts', async () => {
      const project = write(temp(), {'m1/migration.sql': '-- m1\n', 'm2/migration.sql': '-- m2\n', 'prisma': '#!/bin/sh\necho "DROP TABLE t;"\n'})
      chmodSync(join(project, 'prisma'), 0o755)
      const all = ['m1', 'm2'].map(name => ({name, dir: join(project, name), sql: `-- ${name}\n`, downSql: undefined}))
      const down = await downSqlFor(all[1], all, {projectDir: project, migrationsDir: project, prisma: {bin: join(project, 'prisma'), version: '7.1.0', major: 7}, shadowDatabaseUrl: 'postgres://s'})
      assert.equal(down.kind, 'generated', JSON.stringify(down))
      assert.equal((down as {sql: string}).sql.trim(), 'DROP TABLE t;')
      assert.doesNotMatch((down as {command: string}).command, /shadow/)
    })

    it('finds the project\'s own Prisma CLI in node_modules, looking upwards', () => {
      const root = write(temp(), {'node_modules/.bin/prisma': '', 'node_modules/prisma/package.json': JSON.stringify({version: '6.19.0'}), 'apps/web/.keep': ''})
      assert.deepEqual(findPrismaCli(join(root, 'apps', 'web')), {bin: join(root, 'node_modules/.bin/prisma'), version: '6.19.0', major: 6})
      assert.equal(findPrismaCli(temp()), undefined)
    })
  })
})
