import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pgliteScratch, type Scratch, urlScratch} from '../src/lib/migrations/check/scratch.js'
import {type MigrationCheck, runStaircase} from '../src/lib/migrations/check/staircase.js'
import {readLocalMigrations} from '../src/lib/migrations/project.js'
import {removeCheckProjects, type Variant, variantProject} from './support/check-fixtures.js'
import {sandbox} from './support/sandbox.js'

// migrate:check's staircase on whole fixture projects, on PGlite and on the sandbox's real PostgreSQL:
// slower than a unit test (each fixture is migrated, reverted and migrated again), so it runs with the
// end-to-end files.

// Each fixture's verdict for its last migration, the same on PGlite and on a real PostgreSQL server.
const EXPECTED: Record<Variant, {verdict: MigrationCheck['verdict'], problems: RegExp[], data?: boolean}> = {
  correct: {verdict: 'reverts', problems: []},
  forgetsIndex: {verdict: 'differs', problems: [/^index "Post_title_key" still there after down$/, /migration.sql fails when applied again after down: .*already exists/]},
  keepsEnumValue: {verdict: 'differs', problems: [/^enum "Role" keeps value 'OWNER' after down$/]},
  keepsConstraint: {verdict: 'differs', problems: [/^check constraint "Post_title_check" on "Post" still there after down$/]},
  emptyTablesOnly: {verdict: 'differs', problems: [/^down.sql fails on tables with sample rows: .*contains null values/], data: true},
  missingDown: {verdict: 'no-down', problems: []},
  writesBook: {verdict: 'differs', problems: [/^down.sql writes _prisma_migrations \(`DELETE FROM "_prisma_migrations"/]},
  concurrentDown: {verdict: 'differs', problems: [/^down.sql: `DROP INDEX CONCURRENTLY "User_name_idx"`: DROP INDEX CONCURRENTLY cannot run inside a transaction/]},
  renamesColumn: {verdict: 'reverts', problems: []},
}

async function verdictsOn(open: () => Promise<Scratch>, reset: (db: Scratch) => Promise<void>) {
  const db = await open()
  try {
    for (const [variant, expected] of Object.entries(EXPECTED) as [Variant, typeof EXPECTED[Variant]][]) {
      await reset(db)
      const migrations = readLocalMigrations(join(variantProject(variant), 'prisma', 'migrations'))
      const checks = await runStaircase(db, migrations, {data: expected.data})
      assert.deepEqual(checks.slice(0, 3).map(c => c.verdict), ['reverts', 'reverts', 'reverts'], `${variant}: the base migrations revert`)
      const last = checks.at(-1)!
      assert.equal(last.verdict, expected.verdict, `${variant}: ${JSON.stringify(last)}`)
      for (const pattern of expected.problems) assert.ok(last.problems.some(p => pattern.test(p)), `${variant}: ${pattern} in ${JSON.stringify(last.problems)}`)
      if (expected.problems.length === 0) assert.deepEqual(last.problems, [], variant)
    }
  } finally {
    await db.close()
  }
}

const dropEverything = async (db: Scratch) => {
  await db.query('DROP SCHEMA public CASCADE')
  await db.query('CREATE SCHEMA public')
}

describe('the staircase', () => {
  after(removeCheckProjects)

  it('gives each fixture its verdict on PGlite', async function () {
    this.timeout(300_000)
    await verdictsOn(() => pgliteScratch(), dropEverything)
  })

  it('gives each fixture the same verdict on a real PostgreSQL server', async function () {
    this.timeout(300_000)
    const name = `check${process.pid}`
    const {role, password} = await sandbox().pg.createDatabase(name)
    await verdictsOn(() => urlScratch(sandbox().pg.urlFor(name, role, password)), dropEverything)
  })

  it('passes the down that only works on empty tables when there are no sample rows, and lists what it drops with them', async function () {
    this.timeout(120_000)
    const db = await pgliteScratch()
    try {
      const migrations = readLocalMigrations(join(variantProject('emptyTablesOnly'), 'prisma', 'migrations'))
      assert.equal((await runStaircase(db, migrations)).at(-1)!.verdict, 'reverts')
      await dropEverything(db)
      const withRows = await runStaircase(db, migrations.slice(0, 3), {data: true})
      assert.deepEqual(withRows[2].drops, ['drops column "User"."role" with values \'ADMIN\', \'USER\', \'USER\''])
      assert.deepEqual(withRows[0].drops, ['drops table "User" with 3 row(s)'])
    } finally {
      await db.close()
    }
  })

  it('checks only from --from on, and stops at a migration that cannot run', async function () {
    this.timeout(120_000)
    const db = await pgliteScratch()
    try {
      const migrations = readLocalMigrations(join(variantProject('forgetsIndex'), 'prisma', 'migrations'))
      const checks = await runStaircase(db, migrations, {check: m => m.name >= '20260301000000_add_role'})
      assert.deepEqual(checks.map(c => c.migration), ['20260301000000_add_role', '20260401000000_unique_post_title'])
      await dropEverything(db)
      const broken = [{...migrations[0], sql: 'CREATE TABLE "User" (id int REFERENCES "Nowhere"(id));'}, ...migrations.slice(1)]
      const stopped = await runStaircase(db, broken)
      assert.equal(stopped[0].verdict, 'broken')
      assert.match(stopped[0].notes[0], /migration.sql fails on an empty database: .*"Nowhere"/)
      assert.deepEqual(stopped.slice(1).map(c => c.verdict), ['not-checked', 'not-checked', 'not-checked'])
    } finally {
      await db.close()
    }
  })

  it('says "cannot check here" for an extension PGlite lacks, and loads the contrib ones it has', async function () {
    this.timeout(120_000)
    const extension = (name: string, ext: string) => ({name, dir: '/nowhere', sql: `CREATE EXTENSION IF NOT EXISTS "${ext}";`, downSql: `DROP EXTENSION "${ext}";`})
    const db = await pgliteScratch(['citext'])
    try {
      const checks = await runStaircase(db, [extension('1_citext', 'citext'), extension('2_postgis', 'postgis'), extension('3_after', 'citext')])
      assert.deepEqual(checks.map(c => c.verdict), ['reverts', 'cannot-check', 'not-checked'])
      assert.match(checks[1].notes[0], /cannot check here .*use --database-url/)
    } finally {
      await db.close()
    }
  })

  it('never runs COPY ... PROGRAM, and says "cannot check here" for it and for a lock table too small, not a wrong down', async function () {
    this.timeout(120_000)
    const db = await pgliteScratch()
    try {
      const checks = await runStaircase(db, [
        {name: '1_table', dir: '/nowhere', sql: 'CREATE TABLE "T" (a int);', downSql: 'COPY (SELECT 1) TO PROGRAM \'true\';\nDROP TABLE "T";'},
        {name: '2_locks', dir: '/nowhere', sql: 'CREATE TABLE "U" (a int);', downSql: 'SELECT count(pg_advisory_xact_lock(i)) FROM generate_series(1, 100000) i;\nDROP TABLE "U";'},
        // Found wrong before the lock table ran out: still a wrong down.
        {name: '3_wrong', dir: '/nowhere', sql: 'CREATE TABLE "V" (a int);', downSql: 'DELETE FROM "_prisma_migrations" WHERE false;\nSELECT count(pg_advisory_xact_lock(i)) FROM generate_series(1, 100000) i;\nDROP TABLE "V";'},
        {name: '4_after', dir: '/nowhere', sql: 'COPY (SELECT 1) TO PROGRAM \'true\';'},
        {name: '5_last', dir: '/nowhere', sql: 'SELECT 1;', downSql: 'SELECT 1;'},
      ])
      assert.deepEqual(checks.map(c => [c.migration, c.verdict]), [['1_table', 'cannot-check'], ['2_locks', 'cannot-check'], ['3_wrong', 'differs'], ['4_after', 'cannot-check'], ['5_last', 'not-checked']])
      assert.deepEqual(checks[0].notes, ['down.sql: cannot check here: it runs a program on the database server (COPY ... PROGRAM), which the check never does'])
      assert.deepEqual(checks[1].problems, [])
      assert.match(checks[1].notes[0], /^cannot check here \(this PostgreSQL's lock table is too small for it: out of shared memory\): use --database-url/)
      assert.match(checks[2].problems[0], /^down.sql writes _prisma_migrations/)
      assert.match(checks[2].notes[0], /^cannot check here \(this PostgreSQL's lock table is too small/)
      assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM pg_tables WHERE tablename IN (\'T\', \'U\', \'V\')'), [{n: 3}], 'each down was rolled back')
    } finally {
      await db.close()
    }
  })

  it('keeps the initialized data folder of PGlite in the cache, and starts again from a damaged one', async function () {
    this.timeout(120_000)
    const cacheDir = mkdtempSync(join(tmpdir(), 'pglite-cache-'))
    try {
      await (await pgliteScratch([], cacheDir)).close()
      const [file] = readdirSync(cacheDir)
      assert.match(file, /^pglite-\d+\.\d+\.\d+-initdb\.tgz$/)
      const cached = await pgliteScratch([], cacheDir)
      assert.deepEqual(await cached.query('SELECT 1 AS one'), [{one: 1}])
      await cached.close()
      writeFileSync(join(cacheDir, file), 'not a data folder')
      const recovered = await pgliteScratch([], cacheDir)
      assert.deepEqual(await recovered.query('SELECT 2 AS two'), [{two: 2}])
      await recovered.close()
      assert.deepEqual(readdirSync(cacheDir), [file], 'the damaged file was replaced, not kept beside')
    } finally {
      rmSync(cacheDir, {recursive: true, force: true})
    }
  })
})
