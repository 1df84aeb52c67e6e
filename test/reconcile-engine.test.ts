import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Client} from 'pg'
import {compareDatabases, CompareOptions, Difference, TableComparison} from '../src/lib/reconcile/compare.js'
import {ReconcileFolder} from '../src/lib/reconcile/folder.js'
import {applyReplay} from '../src/lib/reconcile/replay.js'
import {findBase, recordBase} from '../src/lib/reconcile/base.js'
import {fenceSequences} from '../src/lib/reconcile/sequences.js'
import {connectUrl} from '../src/lib/postgres/connect.js'
import type {Addon} from '../src/sandbox/index.js'
import {appName, sandbox} from './support/sandbox.js'

// The comparison engine against two real PostgreSQL databases of the sandbox: OLD holds the writes made
// after the recovery point, DATABASE is the database as the recovery left it.

const SCHEMA = `
  CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL, note text);
  CREATE TABLE orders (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), total numeric(10, 2), placed_at timestamptz);
  CREATE TABLE order_lines (order_id int NOT NULL REFERENCES orders(id), line int NOT NULL, sku text, PRIMARY KEY (order_id, line));
  CREATE TABLE events (name text, n int);
  CREATE TABLE tenant_items (tenant int, id int, v text, PRIMARY KEY (tenant, id));
  INSERT INTO tenant_items SELECT t, g, 'v' || g FROM generate_series(1, 2) t, generate_series(1, 1000) g;
  CREATE TABLE "_prisma_migrations" (id text PRIMARY KEY, migration_name text);
  INSERT INTO customers (email) SELECT 'c' || g || '@example.com' FROM generate_series(1, 2000) g;
  INSERT INTO orders (customer_id, total, placed_at) SELECT g, g * 1.5, '2026-11-20T10:00:00Z' FROM generate_series(1, 500) g;
  INSERT INTO order_lines SELECT o, l, 'sku-' || o || '-' || l FROM generate_series(1, 500) o, generate_series(1, 3) l;
  INSERT INTO events VALUES ('signup', 1), ('signup', 1), ('login', 2);
  INSERT INTO "_prisma_migrations" VALUES ('m1', 'init');`

interface Pair {
  old: Addon
  current: Addon
  oldClient: Client
  currentClient: Client
}

const opened: Client[] = []

async function seedPair(extraOld = '', extraCurrent = ''): Promise<Pair> {
  const app = sandbox().createApp(appName('reconcile-engine'))
  const current = await sandbox().createPostgres(app, 'heroku-postgresql:standard-0', 'DATABASE', {release: false})
  const old = await sandbox().createPostgres(app, 'heroku-postgresql:standard-0', 'HEROKU_POSTGRESQL_OLD', {release: false})
  await sandbox().sql(current, SCHEMA + extraCurrent)
  await sandbox().sql(old, SCHEMA + extraOld)
  const [oldClient, currentClient] = await Promise.all([connectUrl(old._database!.url), connectUrl(current._database!.url)])
  opened.push(oldClient, currentClient)
  return {old, current, oldClient, currentClient}
}

async function compare(pair: Pair, options: Partial<CompareOptions> = {}) {
  const differences: {table: string, difference: Difference}[] = []
  const comparison = await compareDatabases({client: pair.oldClient, schema: 'public'}, {client: pair.currentClient, schema: 'public'}, {
    bucketRows: 256, fetchRows: 8, fanout: 4, ...options,
    async onDifference(table: TableComparison, difference: Difference) {
      differences.push({table: table.table, difference})
      await options.onDifference?.(table, difference)
    },
  })
  const of = (table: string, kind: Difference['kind']) => differences.filter(d => d.table === table && d.difference.kind === kind).map(d => d.difference)
  return {comparison, differences, of, table: (name: string) => comparison.tables.find(t => t.table === name)!}
}

const keysOf = (differences: Difference[], column = 'id') => differences.map(d => Number(d.key[column])).sort((a, b) => a - b)

// Writes after the recovery point, on OLD: inserts, updates, and rows that the recovered DATABASE has
// but OLD no longer has (a mass DELETE after the recovery point shows the same way in reverse).
const AFTER_RECOVERY = `
  INSERT INTO customers (email) SELECT 'new' || g || '@example.com' FROM generate_series(1, 25) g;
  UPDATE customers SET note = 'vip' WHERE id IN (7, 700, 1999);
  UPDATE customers SET email = 'changed@example.com', note = 'moved' WHERE id = 1234;
  INSERT INTO orders (customer_id, total, placed_at) VALUES (2001, 9.99, '2026-11-25T14:05:00Z'), (3, 1.25, NULL);
  UPDATE orders SET total = 0 WHERE id = 250;
  INSERT INTO order_lines VALUES (501, 1, 'a'), (501, 2, E'multi\\nline, "quoted" \\\\ back''slash'), (100, 4, 'extra');
  UPDATE order_lines SET sku = 'swapped' WHERE order_id = 10 AND line = 2;
  DELETE FROM order_lines WHERE order_id = 20 AND line = 3;
  DELETE FROM customers WHERE id BETWEEN 1500 AND 1509;
  INSERT INTO events VALUES ('signup', 1), ('purchase', 3);
  DELETE FROM events WHERE name = 'login';
  UPDATE "_prisma_migrations" SET migration_name = 'drift';
  UPDATE tenant_items SET v = 'changed' WHERE tenant = 1 AND id = 500;
  INSERT INTO tenant_items VALUES (2, 1001, 'new');
  DELETE FROM tenant_items WHERE tenant = 1 AND id = 10;`

describe('db:reconcile engine (real PostgreSQL)', function () {
  this.timeout(120_000)
  after(async () => {
    await Promise.all(opened.map(c => c.end().catch(() => {})))
  })

  it('classifies every row: inserted, updated (with the columns), deleted; composite keys; a table without a key as a multiset', async () => {
    const pair = await seedPair(AFTER_RECOVERY)
    const {comparison, of, table} = await compare(pair)

    assert.deepEqual(keysOf(of('customers', 'inserted')), Array.from({length: 25}, (_, i) => 2001 + i))
    assert.deepEqual(keysOf(of('customers', 'deleted')), Array.from({length: 10}, (_, i) => 1500 + i))
    const updated = of('customers', 'updated') as Extract<Difference, {kind: 'updated'}>[]
    assert.deepEqual(keysOf(updated), [7, 700, 1234, 1999])
    assert.deepEqual(updated.find(u => u.key.id === '1234')!.columns, ['email', 'note'])
    assert.deepEqual(updated.find(u => u.key.id === '7')!.columns, ['note'])
    assert.equal(updated.find(u => u.key.id === '7')!.old.note, 'vip')
    assert.equal(updated.find(u => u.key.id === '7')!.current.note, null)

    assert.deepEqual(keysOf(of('orders', 'inserted')), [501, 502])
    assert.deepEqual(keysOf(of('orders', 'updated')), [250])
    const lines = (kind: Difference['kind']) => of('order_lines', kind).map(d => `${d.key.order_id}/${d.key.line}`).sort()
    assert.deepEqual(lines('inserted'), ['100/4', '501/1', '501/2'])
    assert.deepEqual(lines('updated'), ['10/2'])
    assert.deepEqual(lines('deleted'), ['20/3'])
    assert.deepEqual(table('order_lines').key, ['order_id', 'line'])
    // A composite key whose first column has two values: buckets by the whole key.
    const items = (kind: Difference['kind']) => of('tenant_items', kind).map(d => `${d.key.tenant}/${d.key.id}`)
    assert.deepEqual([items('inserted'), items('updated'), items('deleted')], [['2/1001'], ['1/500'], ['1/10']])

    assert.equal(table('events').mode, 'multiset')
    assert.match(table('events').warnings.join(), /no primary key/)
    assert.deepEqual(of('events', 'inserted').map(d => d.kind === 'inserted' && `${d.row.name}:${d.row.n}`).sort(), ['purchase:3', 'signup:1'])
    assert.deepEqual(of('events', 'deleted').map(d => d.kind === 'deleted' && d.row.name), ['login'])

    assert.equal(comparison.tables.some(t => t.table === '_prisma_migrations'), false)
    assert.deepEqual(comparison.insertOrder.indexOf('customers') < comparison.insertOrder.indexOf('orders'), true)
    assert.deepEqual(comparison.insertOrder.indexOf('orders') < comparison.insertOrder.indexOf('order_lines'), true)
    assert.deepEqual([table('customers').inserted, table('customers').updated, table('customers').deleted], [25, 4, 10])
  })

  it('reports tables and columns only one side has, and still compares the common columns', async () => {
    const pair = await seedPair(`
      ALTER TABLE customers ADD COLUMN nickname text; UPDATE customers SET nickname = 'n' WHERE id = 5;
      CREATE TABLE coupons (code text PRIMARY KEY); UPDATE customers SET email = 'x@example.com' WHERE id = 6;`,
    'CREATE TABLE audit (id int PRIMARY KEY);')
    const {comparison, of, table} = await compare(pair)
    assert.deepEqual(comparison.tablesOnlyInOld, ['coupons'])
    assert.deepEqual(comparison.tablesOnlyInDatabase, ['audit'])
    assert.deepEqual(table('customers').onlyInOld, ['nickname'])
    assert.deepEqual(keysOf(of('customers', 'updated')), [6], 'the one-sided column is not a difference; the common one is')
  })

  it('an unchanged table costs a few queries, and no row leaves the database', async () => {
    const pair = await seedPair()
    const {table, differences} = await compare(pair, {bucketRows: 64})
    assert.deepEqual(differences, [])
    const customers = table('customers')
    // Two size estimates, one read of bucket keys (one key per 64 rows), one bucket pass per side.
    assert.equal(customers.cost.queries, 5)
    assert.ok(customers.cost.rowsFetched <= 2 + 2000 / 64 + 2 * (2000 / 64 + 1), `${customers.cost.rowsFetched} rows fetched`)
  })

  it('replay.sql brings the writes over once; applied again it changes nothing; deletes stay commented out', async () => {
    const pair = await seedPair(AFTER_RECOVERY)
    const dir = join(mkdtempSync(join(tmpdir(), 'reconcile-engine-')), 'out')
    try {
      const folder = ReconcileFolder.create(dir, {prefer: 'old'})
      const {comparison} = await compare(pair, {onDifference: (t, d) => folder.record(t, d)})
      folder.finish(comparison, {tables: comparison.tables.length})
      const sql = readFileSync(join(dir, 'replay.sql'), 'utf8')
      assert.match(sql, /^-- DELETE FROM "public"."customers" WHERE "id" = '1500';$/m)
      // One line per changed column, under one header, whatever columns each row changed.
      const updated = readFileSync(join(dir, 'customers/updated.csv'), 'utf8').trim().split('\n')
      assert.equal(updated[0], 'id,column,OLD,DATABASE,note')
      assert.deepEqual(updated.filter(line => /^(7|1234),/.test(line)).sort(), [
        '1234,email,changed@example.com,c1234@example.com,no base: cannot tell', '1234,note,moved,,no base: cannot tell', '7,note,vip,,no base: cannot tell',
      ])
      assert.ok(sql.indexOf('INSERT INTO "public"."customers"') < sql.indexOf('INSERT INTO "public"."orders"'), 'parents first')

      const first = await applyReplay(pair.currentClient, join(dir, 'replay.sql'))
      assert.deepEqual(first.changed, {customers: 29, orders: 3, order_lines: 4, events: 2, tenant_items: 2})
      const second = await applyReplay(pair.currentClient, join(dir, 'replay.sql'))
      assert.deepEqual(second.changed, {customers: 0, orders: 0, order_lines: 0, events: 0, tenant_items: 0})

      const after = await compare(pair)
      assert.deepEqual(after.differences.map(d => d.difference.kind).filter(k => k !== 'deleted'), [], 'nothing left to carry over')
      assert.equal(after.differences.length, 13, 'the deleted rows are still there: a person decides')
      const [line] = await sandbox().sql(pair.current, 'SELECT sku FROM order_lines WHERE order_id = 501 AND line = 2')
      assert.equal(line.sku, 'multi\nline, "quoted" \\ back\'slash')
    } finally {
      rmSync(join(dir, '..'), {recursive: true, force: true})
    }
  })

  it('the sequence fence prevents the id collision that happens without it', async () => {
    const withoutFence = await seedPair(AFTER_RECOVERY)
    const [{id: collided}] = await sandbox().sql(withoutFence.current, 'INSERT INTO customers (email) VALUES (\'after-promote@example.com\') RETURNING id')
    const [clash] = await sandbox().sql(withoutFence.old, 'SELECT count(*)::int AS n FROM customers WHERE id = $1', [collided])
    assert.equal(clash.n, 1, 'without the fence, a new row takes an id a row written after the recovery point has')

    const pair = await seedPair(AFTER_RECOVERY)
    const moves = await fenceSequences(pair.oldClient, pair.currentClient, 'public')
    assert.deepEqual(moves.map(m => [m.sequence, m.from, m.to]), [['customers_id_seq', '2000', '2025'], ['orders_id_seq', '500', '502']])
    const [{id}] = await sandbox().sql(pair.current, 'INSERT INTO customers (email) VALUES (\'after-promote@example.com\') RETURNING id')
    assert.equal(id, 2026)
    assert.deepEqual(await fenceSequences(pair.oldClient, pair.currentClient, 'public'), [], 'a second fence moves nothing')
  })

  it('three-way against a recorded base: what only OLD changed is carried, what only DATABASE changed is kept, what both changed is a conflict', async () => {
    const pair = await seedPair()
    const label = {run: 'engine-test', recoveryPoint: '2026-11-25T14:00:00.000Z', old: {id: 'old-id', name: 'old-db'}, database: {id: 'db-id', name: 'db'}}
    const recorded = await recordBase(pair.currentClient, label, 'public')
    assert.deepEqual([recorded.schema, recorded.tables, recorded.rows], ['heroku_reconcile_base_engine_test', 5, 2000 + 500 + 1500 + 3 + 2000])
    await sandbox().sql(pair.old, `
      UPDATE customers SET note = 'vip' WHERE id = 1007; UPDATE customers SET note = 'old' WHERE id = 1008; UPDATE customers SET note = 'kept-deleted?' WHERE id = 1009;
      INSERT INTO customers (id, email) VALUES (5001, 'new@example.com'); DELETE FROM customers WHERE id = 1010;
      UPDATE tenant_items SET v = 'old' WHERE tenant = 1 AND id = 500;
      INSERT INTO events VALUES ('signup', 1), ('purchase', 3); DELETE FROM events WHERE name = 'login';
      CREATE TABLE later (id int PRIMARY KEY, v text); INSERT INTO later VALUES (1, 'both'), (2, 'old only');`)
    await sandbox().sql(pair.current, `
      UPDATE customers SET email = 'moved@example.com' WHERE id = 1007; UPDATE customers SET note = 'current' WHERE id = 1008; DELETE FROM customers WHERE id IN (1009, 1011);
      INSERT INTO customers (id, email) VALUES (6001, 'app@example.com');
      UPDATE tenant_items SET v = 'current' WHERE tenant = 1 AND id = 500;
      INSERT INTO events VALUES ('audit', 9); DELETE FROM events WHERE ctid = (SELECT ctid FROM events WHERE name = 'signup' LIMIT 1);
      CREATE TABLE later (id int PRIMARY KEY, v text); INSERT INTO later VALUES (1, 'both'), (3, 'database only');`)
    const base = await findBase(pair.currentClient, 'public', {id: 'old-id'}, {id: 'db-id'})
    assert.ok(base)
    assert.equal(await findBase(pair.currentClient, 'public', {id: 'another-old'}), undefined, 'a base is only for the database it was recorded from')
    const {of, table} = await compare(pair, {base})
    const kinds = (name: string) => Object.fromEntries((['inserted', 'updated', 'deleted', 'conflict', 'kept'] as const).map(kind => [kind, of(name, kind).map(d => d.key.id).sort()]))
    assert.deepEqual(kinds('customers'), {inserted: ['5001'], updated: ['1007'], deleted: ['1010'], conflict: ['1008', '1009'], kept: ['1011', '6001']})
    const seven = of('customers', 'updated')[0] as Extract<Difference, {kind: 'updated'}>
    assert.deepEqual(seven.changes, {email: 'current', note: 'old'})
    const eight = of('customers', 'conflict').find(d => d.key.id === '1008') as Extract<Difference, {kind: 'conflict'}>
    assert.deepEqual([eight.old!.note, eight.current!.note, eight.changes.note], ['old', 'current', 'both'])
    assert.match((of('customers', 'conflict').find(d => d.key.id === '1009') as Extract<Difference, {kind: 'conflict'}>).why, /changed in OLD, deleted from DATABASE/)
    assert.deepEqual(of('tenant_items', 'conflict').map(d => `${d.key.tenant}/${d.key.id}`), ['1/500'])
    assert.deepEqual([table('events').inserted, table('events').deleted, table('events').conflicts, table('events').kept], [1, 1, 2, 1], 'purchase in, login proposed out, signup (2 in the base, 3 in OLD, 1 in DATABASE: two copies) changed on both, audit kept')
    assert.deepEqual(kinds('later'), {inserted: ['2'], updated: [], deleted: [], conflict: [], kept: ['3']}, 'a table newer than the base: every row new on its side')
    assert.equal(table('orders').cost.queries, 5, 'an unchanged table costs as much as without a base: nothing is read from it')

    const dir = join(mkdtempSync(join(tmpdir(), 'reconcile-engine-')), 'out')
    try {
      const folder = ReconcileFolder.create(dir)
      const {comparison} = await compare(pair, {base, onDifference: (t, d) => folder.record(t, d)})
      folder.finish(comparison, {})
      const first = await applyReplay(pair.currentClient, join(dir, 'replay.sql'))
      assert.deepEqual(first.changed, {customers: 2, events: 1, later: 1})
      const rows = await sandbox().sql(pair.current, 'SELECT id, email, note FROM customers WHERE id IN (1007, 1008, 1009, 1010, 5001, 6001) ORDER BY id')
      assert.deepEqual(rows.map(r => `${r.id}|${r.email}|${r.note}`), ['1007|moved@example.com|vip', '1008|c1008@example.com|current', '1010|c1010@example.com|null', '5001|new@example.com|null', '6001|app@example.com|null'])
      const again = await compare(pair, {base})
      assert.deepEqual(again.differences.filter(d => d.difference.kind === 'inserted' || d.difference.kind === 'updated'), [], 'nothing left to carry over')
    } finally {
      rmSync(join(dir, '..'), {recursive: true, force: true})
    }
  })
})
