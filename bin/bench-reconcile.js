#!/usr/bin/env node
// db:reconcile on a table of 1,000,000 rows of which 1,000 changed (400 updated, 300 inserted, 300
// deleted, scattered), on real PostgreSQL started by the sandbox: time, queries, bytes fetched from the
// databases against the table's size, and the peak memory of the process (the sandbox server included:
// an upper bound for the engine). Then the base of a three-way comparison: the time db:recover takes to
// record it and its size, and the three-way comparison against it, with 100 rows changed in DATABASE
// after the "promote" as well. Then the same through the real CLI, with the CLI process's peak memory.
// Run with `npm run bench:reconcile -- [rows] [changed]`. Prints numbers; it asserts nothing.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import pg from 'pg'
import {Sandbox} from '../dist/sandbox/index.js'
import {HerokuCli} from '../dist/tools/heroku-cli.js'
import {compareDatabases} from '../dist/lib/reconcile/compare.js'
import {findBase, recordBase} from '../dist/lib/reconcile/base.js'

const ROWS = Number(process.argv[2] ?? 1_000_000)
const CHANGED = Number(process.argv[3] ?? 1000)
const mb = bytes => `${(bytes / 1024 / 1024).toFixed(1)} MB`

const TABLES = `
  CREATE TABLE items (id bigint PRIMARY KEY, sku text NOT NULL, qty int NOT NULL, price numeric(10, 2), updated_at timestamptz NOT NULL);
  INSERT INTO items SELECT g, 'sku-' || g, g % 97, (g % 1000) / 10.0, '2026-11-20T00:00:00Z'::timestamptz + g * interval '1 second' FROM generate_series(1, ${ROWS}) g;
  CREATE TABLE ledger (account int, entry int, amount bigint, PRIMARY KEY (account, entry));
  INSERT INTO ledger SELECT g / 100, g % 100, g FROM generate_series(1, ${ROWS / 5}) g;
  ANALYZE;`

// Spread evenly with a stride, so that the changes touch as many ranges as possible.
const stride = Math.floor(ROWS / CHANGED)
const CHANGES = `
  UPDATE items SET qty = qty + 1 WHERE id % ${stride} = 7 AND id <= ${Math.floor(CHANGED * 0.4) * stride};
  DELETE FROM items WHERE id % ${stride} = 11 AND id > ${Math.floor(CHANGED * 0.4) * stride} AND id <= ${Math.floor(CHANGED * 0.7) * stride};
  INSERT INTO items SELECT ${ROWS} + g, 'late-' || g, 1, 1, now() FROM generate_series(1, ${CHANGED - Math.floor(CHANGED * 0.7)}) g;
  ANALYZE;`
// Writes the app made to DATABASE after the promote: 50 updates (10 of them on rows OLD updated too) and 50 inserts.
const AFTER_PROMOTE = `
  UPDATE items SET price = price + 1 WHERE id % ${stride} = 3 AND id <= ${40 * stride};
  UPDATE items SET qty = qty + 2 WHERE id % ${stride} = 7 AND id <= ${10 * stride};
  INSERT INTO items SELECT ${ROWS * 2} + g, 'app-' || g, 1, 1, now() FROM generate_series(1, 50) g;
  ANALYZE;`


const sandbox = await Sandbox.start()
const out = mkdtempSync(join(tmpdir(), 'bench-reconcile-'))
try {
  const app = sandbox.createApp('bench-reconcile')
  const current = await sandbox.createPostgres(app, 'heroku-postgresql:standard-0', 'DATABASE', {release: false})
  const old = await sandbox.createPostgres(app, 'heroku-postgresql:standard-0', 'HEROKU_POSTGRESQL_OLD', {release: false})
  let started = Date.now()
  await Promise.all([sandbox.sql(current, TABLES), sandbox.sql(old, TABLES)])
  await sandbox.sql(old, CHANGES)
  console.log(`seeded ${ROWS.toLocaleString('en')} rows (+ ${(ROWS / 5).toLocaleString('en')} in an unchanged table) on both sides in ${((Date.now() - started) / 1000).toFixed(1)} s`)

  const clients = await Promise.all([old, current].map(async addon => {
    const client = new pg.Client({connectionString: addon._database.url})
    await client.connect()
    return client
  }))
  // What db:recover records in the new database before the promote, while it is still equal to OLD.
  const [{rows: [before]}] = await Promise.all([clients[1].query("SELECT pg_database_size(current_database()) AS db, pg_total_relation_size('items') + pg_total_relation_size('ledger') AS tables")])
  started = Date.now()
  const recorded = await recordBase(clients[1], {run: 'bench', recoveryPoint: new Date().toISOString(), old: {id: old.id, name: old.name}, database: {id: current.id, name: current.name}}, 'public')
  const recordMs = Date.now() - started
  const [{rows: [size]}] = await Promise.all([clients[1].query("SELECT pg_table_size('items') AS table, pg_total_relation_size('items') AS total")])
  let peak = process.memoryUsage().rss
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
  const counts = {inserted: 0, updated: 0, deleted: 0}
  started = Date.now()
  const comparison = await compareDatabases({client: clients[0], schema: 'public'}, {client: clients[1], schema: 'public'}, {
    onDifference: (_, difference) => void counts[difference.kind]++,
  })
  const ms = Date.now() - started
  clearInterval(sampler)
  await Promise.all(clients.map(c => c.end()))
  const items = comparison.tables.find(t => t.table === 'items')
  const ledger = comparison.tables.find(t => t.table === 'ledger')
  console.log('\nengine, in process:')
  console.log(`  items: ${ROWS.toLocaleString('en')} rows, ${CHANGED} changed -> ${items.inserted} inserted, ${items.updated} updated, ${items.deleted} deleted`)
  console.log(`  time: ${(ms / 1000).toFixed(2)} s for both tables`)
  console.log(`  items: ${items.cost.queries} queries, ${items.cost.rowsFetched.toLocaleString('en')} rows of hashes/keys/data, ${mb(items.cost.bytesFetched)} fetched`)
  console.log(`  items table size ${mb(Number(size.table))} (with indexes ${mb(Number(size.total))}): fetched ${(100 * items.cost.bytesFetched / Number(size.table)).toFixed(2)}% of it`)
  console.log(`  ledger (${(ROWS / 5).toLocaleString('en')} rows, unchanged): ${ledger.cost.queries} queries, ${ledger.cost.rowsFetched} rows, ${ledger.cost.bytesFetched} bytes fetched`)
  console.log(`  peak RSS of the process: ${mb(peak)}`)

  console.log('\nthe base of a three-way comparison (db:recover records it before the promote):')
  console.log(`  recorded in ${(recordMs / 1000).toFixed(2)} s: ${recorded.tables} tables, ${recorded.rows.toLocaleString('en')} rows, ${mb(recorded.bytes)} with its indexes`)
  console.log(`  against the tables it covers ${mb(Number(before.tables))} with their indexes (${(100 * recorded.bytes / Number(before.tables)).toFixed(0)}%), the whole database ${mb(Number(before.db))}`)
  const threeWay = await Promise.all([old, current].map(async addon => {
    const client = new pg.Client({connectionString: addon._database.url})
    await client.connect()
    return client
  }))
  const base = await findBase(threeWay[1], 'public', {id: old.id})
  const compareThreeWay = async what => {
    const three = {inserted: 0, updated: 0, deleted: 0, conflict: 0, kept: 0}
    const began = Date.now()
    const compared = await compareDatabases({client: threeWay[0], schema: 'public'}, {client: threeWay[1], schema: 'public'}, {base, onDifference: (_, difference) => void three[difference.kind]++})
    const threeItems = compared.tables.find(t => t.table === 'items')
    console.log(`  three-way, ${what}: ${((Date.now() - began) / 1000).toFixed(2)} s for both tables (two-way above: ${(ms / 1000).toFixed(2)} s)`)
    console.log(`    items: ${JSON.stringify(three)}; ${threeItems.cost.queries} queries, ${mb(threeItems.cost.bytesFetched)} fetched (base hashes included)`)
  }
  await compareThreeWay('the same 1,000 changes')
  await sandbox.sql(current, AFTER_PROMOTE)
  await compareThreeWay('with 100 rows changed in DATABASE after the promote as well (10 of them changed in OLD too)')

  await Promise.all(threeWay.map(c => c.end()))

  const cli = new HerokuCli(sandbox)
  await cli.link()
  // The CLI's own peak memory, measured by the kernel (GNU time), for the run as users start it.
  const args = ['db:reconcile', '--app', app.name, '--from', 'HEROKU_POSTGRESQL_OLD', '--out', join(out, 'folder'), '--json']
  started = Date.now()
  const run = await cli.measured(args)
  const wall = Date.now() - started
  const document = JSON.parse(run.stdout)
  console.log('\nheroku db:reconcile through the real CLI (plugin linked):')
  console.log(`  wall clock ${(wall / 1000).toFixed(2)} s (CLI start included); comparison ${(document.cost.durationMs / 1000).toFixed(2)} s, ${document.cost.queries} queries, ${mb(document.cost.bytesFetched)} fetched`)
  const help = await cli.measured(['db:reconcile', '--help'])
  console.log(`  peak RSS of the CLI process: ${mb(run.peakRssBytes)} (\`heroku db:reconcile --help\` alone: ${mb(help.peakRssBytes)})`)
  console.log(`  ${document.against}${document.base ? ` (base from run ${document.base.run})` : ''}; totals: ${JSON.stringify(document.totals)}`)
} finally {
  rmSync(out, {recursive: true, force: true})
  await sandbox.stop()
}
