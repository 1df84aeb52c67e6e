import assert from 'node:assert/strict'
import pg from 'pg'
import {mkdtempSync, mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseStatements} from '../src/lib/migrations/statements.js'
import {readCatalog, valuesInUse} from '../src/lib/schema/catalog.js'
import {enumProbes, Finding, findCompatibility, verdictOf} from '../src/lib/schema/compat.js'
import {expectedSchema} from '../src/lib/schema/expected.js'
import {deployMigrations} from '../src/sandbox/scenarios/prisma.js'
import {fixtureMigrations, FIXTURE_SCHEMA} from '../src/sandbox/seeds/schema-history.js'
import {appName, sandbox} from './support/sandbox.js'

// The findings of the schema gate on a real database: the fixture's five migrations applied, then one
// more migration deployed after the target (whose code has the fixture's schema).

const scratch: string[] = []

async function judge(since: string, options: {target?: string, seedSql?: string} = {}): Promise<Finding[]> {
  const dir = mkdtempSync(join(tmpdir(), 'compat-'))
  scratch.push(dir)
  const migrations = [...fixtureMigrations(), {name: '20260901000000_since_target', sql: since}]
  for (const {name, sql} of migrations) {
    mkdirSync(join(dir, name))
    writeFileSync(join(dir, name, 'migration.sql'), sql)
  }
  const app = sandbox().createApp(appName('compat'))
  const database = await sandbox().createPostgres(app)
  await deployMigrations(sandbox(), database, dir)
  if (options.seedSql) await sandbox().sql(database, options.seedSql)
  const client = new pg.Client({connectionString: database._database!.url})
  await client.connect()
  try {
    const expected = expectedSchema([{path: 'schema.prisma', text: options.target ?? FIXTURE_SCHEMA}])
    const catalog = await readCatalog(client, ['public'])
    const inUse = new Map<string, string[]>()
    for (const probe of enumProbes(expected, catalog, 'public')) inUse.set(`${probe.schema}.${probe.table}.${probe.column}`, await valuesInUse(client, probe))
    const statements = await parseStatements(since, 'since')
    return findCompatibility(expected, catalog, {defaultSchema: 'public', inUse, migrations: [{name: '20260901000000_since_target', statements}]})
  } finally {
    await client.end()
  }
}

const summary = (findings: Finding[]) => findings.map(f => `${f.level} ${f.table}.${f.column ?? ''} ${f.migration ?? '-'}`)

describe('the schema gate\'s findings, on real PostgreSQL', function () {
  this.timeout(60_000)
  after(() => {
    for (const dir of scratch) rmSync(dir, {recursive: true, force: true})
  })

  it('passes additive changes: a new table, a nullable column, a column with a default, an index', async () => {
    const findings = await judge(`
      CREATE TABLE "Tag" ("id" SERIAL PRIMARY KEY, "label" TEXT NOT NULL);
      ALTER TABLE "User" ADD COLUMN "nickname" TEXT;
      ALTER TABLE "Post" ADD COLUMN "views" INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX "Post_title_idx" ON "Post"("title");`)
    assert.deepEqual(findings, [])
    assert.equal(verdictOf(findings), 'compatible')
  })

  it('blocks a dropped column, naming the model, field, table, column and migration', async () => {
    const findings = await judge('ALTER TABLE "User" DROP COLUMN "bio";')
    assert.deepEqual(findings.map(f => [f.level, f.model, f.field, f.table, f.column, f.migration]), [['block', 'User', 'bio', 'User', 'bio', '20260901000000_since_target']])
    assert.match(findings[0].message, /column "User"."bio" \(User.bio\) is missing/)
  })

  it('blocks a renamed column: the old name is missing, and the code cannot insert without the new one', async () => {
    const findings = await judge('ALTER TABLE "Post" RENAME COLUMN "title" TO "headline";')
    assert.deepEqual(summary(findings), ['block Post.title 20260901000000_since_target', 'block Post.headline 20260901000000_since_target'])
  })

  it('blocks a required column without a default that the code does not know: its inserts fail', async () => {
    const findings = await judge('ALTER TABLE "Post" ADD COLUMN "slug" TEXT NOT NULL;')
    assert.deepEqual(summary(findings), ['block Post.slug 20260901000000_since_target'])
    assert.match(findings[0].message, /NOT NULL without a default and the code does not know it: its inserts into "Post" fail/)
  })

  it('blocks a narrowed type', async () => {
    const findings = await judge('ALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE VARCHAR(20);')
    assert.deepEqual(summary(findings), ['block User.name 20260901000000_since_target'])
    assert.match(findings[0].message, /was narrowed to varchar\(20\): the code writes text/)
  })

  it('blocks an enum value the code does not know when rows hold it, and only warns while none does', async () => {
    const addValue = 'ALTER TYPE "Status" ADD VALUE \'ARCHIVED\';'
    const unused = await judge(addValue)
    assert.deepEqual(summary(unused), ['warn Post.status 20260901000000_since_target'])
    assert.match(unused[0].message, /enum Status has value 'ARCHIVED' the code does not know, no row holds it yet/)
    const held = await judge(addValue, {seedSql: `
      INSERT INTO "User" (email) VALUES ('a@example.com');
      INSERT INTO "Post" (title, "authorId", status) VALUES ('old', 1, 'ARCHIVED');`})
    assert.deepEqual(summary(held), ['block Post.status 20260901000000_since_target'])
    assert.match(held[0].message, /rows of "Post" hold it: reading them fails/)
  })

  it('warns about a new CHECK constraint on a table the code writes, and a trigger to review', async () => {
    const findings = await judge(`
      ALTER TABLE "Post" ADD CONSTRAINT "title_not_empty" CHECK (length("title") > 0);
      CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
      CREATE TRIGGER "Post_touch" BEFORE UPDATE ON "Post" FOR EACH ROW EXECUTE FUNCTION touch();`)
    assert.equal(verdictOf(findings), 'warnings')
    assert.deepEqual(findings.map(f => f.message.replace(/ \(review:.*/, '')), [
      'a new CHECK constraint on "Post" may reject the code\'s writes',
      'a function was created or replaced',
      'a trigger was added on "Post"',
    ])
  })

  it('warns about SET NOT NULL on a column the code treats as optional, and about statements that change data', async () => {
    const findings = await judge('UPDATE "User" SET "name" = \'\' WHERE "name" IS NULL; ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;')
    assert.equal(verdictOf(findings), 'warnings')
    assert.deepEqual(findings.map(f => f.message.replace(/ \(review:.*/, '')), [
      'column "User"."name" (User.name) is now NOT NULL, the code treats it as optional: its writes without a value fail',
      'a statement changes data',
    ])
    assert.equal(findings[0].migration, '20260901000000_since_target')
  })

  it('reads @map, @@map and implicit many-to-many tables from the schema', async () => {
    const target = `${FIXTURE_SCHEMA.replace('model User {', 'model User {\n  handle String? @map("user_handle")\n  tags Tag[]')}
model Tag {
  id    Int    @id @default(autoincrement())
  users User[]
  @@map("tags")
}
`
    const findings = await judge('ALTER TABLE "User" ADD COLUMN "user_handle" TEXT; CREATE TABLE "tags" ("id" SERIAL PRIMARY KEY);', {target})
    assert.deepEqual(summary(findings), ['block _TagToUser. -'])
    assert.match(findings[0].message, /table "_TagToUser" \(model Tag<->User\) is missing/)
  })
})
