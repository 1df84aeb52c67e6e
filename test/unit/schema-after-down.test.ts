import assert from 'node:assert/strict'
import type {ClientBase} from 'pg'
import {pgliteScratch, type Scratch} from '../../src/lib/migrations/check/scratch.js'
import type {LocalMigration} from '../../src/lib/migrations/project.js'
import {parseStatements} from '../../src/lib/migrations/statements.js'
import {withChanges} from '../../src/lib/schema/after-down.js'
import type {Catalog, CatalogColumn} from '../../src/lib/schema/catalog.js'
import {fitOthers, type OtherCode} from '../../src/lib/schema/others.js'

// The schema a down leaves, as the schema gate compares it with another app's code: today's catalog with
// what the down changes (seen on a scratch database), and the gate's own comparison against it.

const column = (name: string, udt = 'text', more: Partial<CatalogColumn> = {}): CatalogColumn =>
  ({column: name, udt, array: false, enum: false, maxLength: null, nullable: true, hasDefault: false, ...more})
const catalog = (tables: Record<string, CatalogColumn[]>, enums: Record<string, string[]> = {}): Catalog =>
  ({tables: new Map(Object.entries(tables)), enums: new Map(Object.entries(enums))})

describe('the schema a down leaves', () => {
  it('is today\'s catalog with only what the down changed: dropped, added and changed columns, tables and enums; drift stays', () => {
    const live = catalog({
      'public.User': [column('id', 'int4'), column('name', 'text'), column('bio'), column('legacy')],
      'public.Post': [column('id', 'int4')],
      'public.Audit': [column('id', 'int4')],
    }, {'public.Status': ['DRAFT', 'PUBLISHED', 'ARCHIVED']})
    const before = catalog({
      'public.User': [column('id', 'int4'), column('name', 'text'), column('bio')],
      'public.Post': [column('id', 'int4')],
    }, {'public.Status': ['DRAFT', 'PUBLISHED', 'ARCHIVED']})
    const after = catalog({
      'public.User': [column('id', 'int4'), column('name', 'varchar', {maxLength: 50}), column('nickname')],
      'public.Tag': [column('id', 'int4')],
    }, {'public.Status': ['DRAFT', 'PUBLISHED']})
    const left = withChanges(live, before, after)
    assert.deepEqual(left.tables.get('public.User'), [column('id', 'int4'), column('name', 'varchar', {maxLength: 50}), column('legacy'), column('nickname')])
    assert.equal(left.tables.has('public.Post'), false, 'the dropped table is gone')
    assert.deepEqual(left.tables.get('public.Tag'), [column('id', 'int4')])
    assert.deepEqual(left.tables.get('public.Audit'), [column('id', 'int4')], 'a table the migrations never made stays')
    assert.deepEqual(left.enums.get('public.Status'), ['DRAFT', 'PUBLISHED'])
  })

  describe('against another app\'s code', function () {
    this.timeout(120_000)
    const migration = (name: string, sql: string): LocalMigration => ({name, dir: `/p/prisma/migrations/${name}`, sql})
    const local = [
      migration('20261101000000_init', 'CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);'),
      migration('20261102000000_add_bio', 'ALTER TABLE "User" ADD COLUMN "bio" TEXT;'),
    ]
    const schema = (fields: string) => ({from: 'slug' as const, migrations: new Map(), schemas: [{path: 'prisma/schema.prisma', text: `model User {\n  id Int @id @default(autoincrement())\n  email String\n${fields}}\nmodel Audit {\n  id Int @id\n}\n`}]})
    let live: Scratch
    before(async () => {
      live = await pgliteScratch()
      for (const m of local) await live.query(m.sql)
      // A table no migration made: it stays in the schema the down leaves.
      await live.query('CREATE TABLE "Audit" ("id" INTEGER PRIMARY KEY)')
    })
    after(() => live?.close())

    it('finds the column the down drops in the code that maps it, names the migration; code that does not map it fits; unread code is unknown', async () => {
      const client = {query: async (sql: string, params?: unknown[]) => ({rows: await live.query(sql, params)})} as unknown as ClientBase
      const others: OtherCode[] = [
        {app: 'shop-worker', names: ['DATABASE'], release: 7, project: schema('  bio String?\n')},
        {app: 'shop-reports', names: ['REPORTING_DB'], release: 3, project: schema('')},
        {app: 'shop-fir', names: ['DATABASE'], release: 12, reason: 'v12 is a Fir release (an OCI image, whose files cannot be downloaded)'},
      ]
      const down = await parseStatements('ALTER TABLE "User" DROP COLUMN "bio";', 'down.sql')
      const fits = await fitOthers(client, others, {local, applied: local.map(m => m.name), schema: 'public', reverts: [{name: '20261102000000_add_bio', down}]})
      assert.deepEqual(fits.map(f => [f.app, f.verdict]), [['shop-worker', 'blocked'], ['shop-reports', 'compatible'], ['shop-fir', 'unknown']])
      assert.deepEqual(fits[0].findings.map(f => [f.level, f.message, f.migration]), [['block', 'column "User"."bio" (User.bio) is missing', '20261102000000_add_bio']])
      assert.equal(fits[0].from, 'slug')
      assert.match(fits[2].reason!, /Fir release/)
      const columns = await live.query<{column_name: string}>('SELECT column_name FROM information_schema.columns WHERE table_name = \'User\' ORDER BY 1')
      assert.deepEqual(columns.map(c => c.column_name), ['bio', 'email', 'id'], 'the database itself is untouched')
    })
  })
})
