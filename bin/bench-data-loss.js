#!/usr/bin/env node
// Times migrate:down's data-loss checks on a table of 1,000,000 rows, on a real PostgreSQL server started
// by the sandbox. Run after a build: `npx tsc -p tsconfig.json && node bin/bench-data-loss.js [rows]`.
import pg from 'pg'
import {Sandbox} from '../dist/sandbox/index.js'
import {lossyOperations, measureLoss} from '../dist/lib/migrations/data-loss.js'
import {parseStatements} from '../dist/lib/migrations/statements.js'

const ROWS = Number(process.argv[2] ?? 1_000_000)
const RUNS = 5

// Each case is a down script as a Prisma project would have it, and what makes it fast or slow.
const CASES = [
  ['DROP TABLE (1M rows)', 'DROP TABLE "Event";', 'bounded count, stops at the cap'],
  ['DROP COLUMN, every value set', 'ALTER TABLE "Event" DROP COLUMN "payload";', 'bounded count, stops at the cap'],
  ['DROP COLUMN, a few values set', 'ALTER TABLE "Event" DROP COLUMN "rare";', 'scans until the values are found (worst case)'],
  ['DROP COLUMN, all NULL', 'ALTER TABLE "Event" DROP COLUMN "unused";', 'a full scan: nothing to stop on (worst case)'],
  ['DROP COLUMN, all NULL, indexed', 'ALTER TABLE "Event" DROP COLUMN "ref";', 'answered by the index'],
  ['narrow text -> varchar(20), all fit', 'ALTER TABLE "Event" ALTER COLUMN "kind" SET DATA TYPE VARCHAR(20);', 'a full scan to prove every value fits'],
  ['narrow bigint -> integer, one too big', 'ALTER TABLE "Event" ALTER COLUMN "counter" SET DATA TYPE INTEGER;', 'a full scan until the value is found'],
  ['DROP TYPE ... CASCADE (enum column)', 'DROP TYPE "Level" CASCADE;', 'catalog lookup, then a bounded count'],
]

const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

async function main() {
  const sandbox = await Sandbox.start()
  try {
    const app = sandbox.createApp('bench-data-loss')
    const addon = await sandbox.createPostgres(app, 'heroku-postgresql:standard-0', 'DATABASE', {release: false})
    const client = new pg.Client({connectionString: addon._database.url})
    client.on('error', () => {})
    await client.connect()
    process.stdout.write(`Filling "Event" with ${ROWS.toLocaleString('en-US')} rows... `)
    const filled = Date.now()
    await client.query(`
      CREATE TYPE "Level" AS ENUM ('INFO', 'WARN');
      CREATE TABLE "Event" (id bigserial PRIMARY KEY, kind text NOT NULL, payload jsonb, rare text, unused text, ref int, counter bigint, level "Level");
      INSERT INTO "Event" (kind, payload, rare, counter, level)
        SELECT 'kind-' || (g % 50), jsonb_build_object('n', g), CASE WHEN g = ${ROWS} THEN 'last' END, g, 'INFO'
        FROM generate_series(1, ${ROWS}) g;
      UPDATE "Event" SET counter = 5000000000 WHERE id = ${ROWS};
      CREATE INDEX "Event_ref_idx" ON "Event" (ref);`)
    await client.query('VACUUM ANALYZE "Event"')
    console.log(`${Date.now() - filled} ms`)
    console.log(`\nData-loss checks, median of ${RUNS} runs (parse + find + measure on the live table):\n`)
    for (const [label, sql, why] of CASES) {
      const times = []
      let findings = []
      for (let run = 0; run < RUNS; run++) {
        const started = process.hrtime.bigint()
        findings = await measureLoss(client, lossyOperations('bench', await parseStatements(sql, label)))
        times.push(Number(process.hrtime.bigint() - started) / 1e6)
      }
      console.log(`  ${label.padEnd(40)} ${median(times).toFixed(1).padStart(8)} ms   ${why}`)
      for (const finding of findings) console.log(`  ${''.padEnd(40)} ${''.padStart(8)}      -> ${finding.detail}`)
    }
    await client.end()
  } finally {
    await sandbox.stop()
  }
}

await main()
