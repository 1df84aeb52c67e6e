import assert from 'node:assert/strict'
import {describeDifference, diffSnapshots, AFTER_DOWN, AFTER_REDO} from '../../src/lib/migrations/check/diff.js'
import {PROGRESS_EVERY_MS, refusePrograms, throttled} from '../../src/lib/migrations/check/gather.js'
import {summarize} from '../../src/lib/migrations/check/report.js'
import {sampleValue} from '../../src/lib/migrations/check/sample-rows.js'
import {pgliteScratch} from '../../src/lib/migrations/check/scratch.js'
import {type Snapshot, takeSnapshot} from '../../src/lib/migrations/check/snapshot.js'
import {type MigrationCheck, runnableText, writesBook} from '../../src/lib/migrations/check/staircase.js'
import {parseStatements, runsProgram} from '../../src/lib/migrations/statements.js'

const object = (kind: any, name: string, props: Record<string, string | string[]> = {}) => ({[`${kind} ${name}`]: {kind, name, props}})

const snapshotOf = (...objects: Snapshot[]): Snapshot => Object.assign({}, ...objects)

describe('migrate:check snapshots and their differences', () => {
  it('says what is left behind, missing or changed after a down', () => {
    const before = snapshotOf(object('table', '"User"'), object('column', '"User"."name"', {type: 'character varying(50)', nullable: 'yes', default: ''}))
    const after = snapshotOf(
      object('table', '"User"'),
      object('column', '"User"."name"', {type: 'text', nullable: 'yes', default: ''}),
      object('index', '"User_email_key"', {definition: 'CREATE UNIQUE INDEX ...'}),
    )
    const lines = diffSnapshots(before, after).map(d => describeDifference(d, AFTER_DOWN))
    assert.deepEqual(lines, [
      'column "User"."name": type text after down, character varying(50) before the migration',
      'index "User_email_key" still there after down',
    ])
    assert.deepEqual(diffSnapshots(after, before).map(d => describeDifference(d, AFTER_REDO)), [
      'column "User"."name": type character varying(50) after down and up again, text after the first up',
      'index "User_email_key" missing after down and up again',
    ])
  })

  it('says which enum values a down keeps, lacks or reorders', () => {
    const enumWith = (values: string[]) => object('enum', '"Role"', {values})
    const describe = (expected: string[], found: string[]) => diffSnapshots(enumWith(expected), enumWith(found)).map(d => describeDifference(d, AFTER_DOWN))
    assert.deepEqual(describe(['USER'], ['USER', 'OWNER']), ['enum "Role" keeps value \'OWNER\' after down'])
    assert.deepEqual(describe(['USER', 'ADMIN'], ['USER']), ['enum "Role" lacks value \'ADMIN\' after down'])
    assert.deepEqual(describe(['USER', 'ADMIN'], ['ADMIN', 'USER']), ['enum "Role" has its values in another order after down'])
    assert.deepEqual(describe(['USER'], ['USER']), [])
  })

  it('says a table once, not each of its columns and constraints', () => {
    const found = snapshotOf(object('table', '"Post"'), object('column', '"Post"."id"', {type: 'integer'}), object('primary key', '"Post_pkey" on "Post"'), object('index', '"Post_pkey"'))
    assert.deepEqual(diffSnapshots({}, found).map(d => describeDifference(d, AFTER_DOWN)), [
      'index "Post_pkey" still there after down',
      'table "Post" still there after down',
    ])
  })

  it('reads a snapshot that ignores column order, and finds each kind of object', async function () {
    this.timeout(120_000)
    const db = await pgliteScratch()
    try {
      await db.query('CREATE TABLE "T" (a int, b text NOT NULL DEFAULT \'x\', c int)')
      const first = await takeSnapshot(db)
      await db.query('ALTER TABLE "T" DROP COLUMN a')
      await db.query('ALTER TABLE "T" ADD COLUMN a int')
      assert.deepEqual(diffSnapshots(first, await takeSnapshot(db)), [], 'a column dropped and added again is the same schema')
      for (const sql of [
        'CREATE TYPE "Mood" AS ENUM (\'ok\', \'sad\')',
        'CREATE SEQUENCE "counter" INCREMENT 5',
        'CREATE VIEW "V" AS SELECT b FROM "T"',
        'CREATE FUNCTION "touch"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$',
        'CREATE TRIGGER "T_touch" BEFORE UPDATE ON "T" FOR EACH ROW EXECUTE FUNCTION "touch"()',
        'ALTER TABLE "T" ADD CONSTRAINT "T_c_check" CHECK (c > 0)',
        'CREATE INDEX "T_b_idx" ON "T" (b)',
      ]) await db.query(sql)
      const kinds = Object.values(await takeSnapshot(db)).map(o => `${o.kind} ${o.name}`).sort()
      for (const expected of ['enum "Mood"', 'sequence "counter"', 'view "V"', 'function "touch"()', 'trigger "T_touch" on "T"', 'check constraint "T_c_check" on "T"', 'index "T_b_idx"', 'column "T"."b"']) {
        assert.ok(kinds.includes(expected), `${expected} in ${kinds.join(', ')}`)
      }
    } finally {
      await db.close()
    }
  })
})

describe('migrate:check statements', () => {
  it('finds a write to _prisma_migrations, and runs CONCURRENTLY without it', async () => {
    const [write, read] = await parseStatements('DELETE FROM "_prisma_migrations" WHERE true; SELECT * FROM "_prisma_migrations";', 'down.sql')
    assert.equal(writesBook(write), true)
    assert.equal(writesBook(read), false)
    const [concurrent, vacuum, plain] = await parseStatements('CREATE INDEX CONCURRENTLY "i" ON "T" (a); VACUUM; DROP TABLE "T";', 'x.sql')
    assert.equal(runnableText(concurrent), 'CREATE INDEX "i" ON "T" (a)')
    assert.equal(runnableText(vacuum), undefined)
    assert.equal(runnableText(plain), 'DROP TABLE "T"')
  })

  it('finds COPY ... TO/FROM PROGRAM, and refuses a migration folder that has one before anything runs', async () => {
    const [to, from, file, select] = await parseStatements('COPY (SELECT 1) TO PROGRAM \'true\'; COPY "T" FROM PROGRAM \'echo 1\'; COPY "T" TO \'/tmp/t\'; SELECT 1;', 'x.sql')
    assert.deepEqual([to, from, file, select].map(runsProgram), [true, true, false, false])
    const migration = (name: string, sql: string, downSql?: string) => ({name, dir: `/project/${name}`, sql, downSql})
    await refusePrograms([migration('1_a', 'CREATE TABLE "T" (a int);', 'DROP TABLE "T";'), migration('2_b', 'SELECT \'program\';')])
    await assert.rejects(refusePrograms([migration('1_a', 'CREATE TABLE "T" (a int);', 'COPY "T" FROM PROGRAM \'echo 1\';\nDROP TABLE "T";')]),
      {message: '/project/1_a/down.sql: `COPY "T" FROM PROGRAM \'echo 1\'` runs a program on the database server (COPY ... PROGRAM), which migrate:check never does: nothing was checked.'})
  })

  it('makes sample values from column types, leaving serials to their default', () => {
    const column = {table: '"User"', column: 'name', type: 'character varying(5)', typtype: 'b', typcategory: 'S', typname: 'varchar', typmod: 9, not_null: false, default: null, identity: '', generated: ''}
    assert.equal(sampleValue(column), 'left(\'name-\' || i, 5)::character varying(5)')
    assert.equal(sampleValue({...column, default: 'nextval(\'"User_id_seq"\'::regclass)', typcategory: 'N', type: 'integer'}), undefined)
    assert.match(sampleValue({...column, typtype: 'e', type: '"Role"'})!, /enum_range\(NULL::"Role"\)/)
    assert.match(sampleValue({...column, reference: {table: '"User"', column: '"id"'}, table: '"Post"'})!, /SELECT "id" FROM "User"/)
  })

  it('says how far it got on long runs, at most one line every few seconds', () => {
    let clock = 0
    const lines: string[] = []
    const progress = {start() {}, stop() {}, say() {}, output() {}, status: (text: string) => lines.push(text)}
    const report = throttled(progress, 100, () => clock)!
    report(1, 100, 'm1')
    clock += PROGRESS_EVERY_MS
    report(40, 100, 'm40')
    report(41, 100, 'm41')
    clock += PROGRESS_EVERY_MS
    report(100, 100, '')
    assert.deepEqual(lines, ['40/100: m40'])
  })

  it('exits 1 on a wrong or missing down, 3 when something could not be checked, 0 otherwise', () => {
    const check = (verdict: MigrationCheck['verdict']): MigrationCheck => ({migration: verdict, verdict, problems: [], drops: [], notes: []})
    assert.equal(summarize('d', 'db', false, [check('reverts')], false).exitCode, 0)
    assert.equal(summarize('d', 'db', false, [check('reverts'), check('no-down')], false).exitCode, 1)
    assert.equal(summarize('d', 'db', false, [check('reverts'), check('no-down')], true).exitCode, 0)
    assert.equal(summarize('d', 'db', false, [check('cannot-check'), check('not-checked')], false).exitCode, 3)
    assert.equal(summarize('d', 'db', false, [check('cannot-check'), check('differs')], false).exitCode, 1)
  })
})
