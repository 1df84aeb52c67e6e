#!/usr/bin/env node
// CPU time of the schema gate's own work for a large app: a 200-model Prisma schema against its catalog,
// with 50 migrations since the target to parse and attribute. The database reads are not in it (one
// catalog query). Run with `npm run bench:schema-gate`.
import {parseStatements} from '../dist/lib/migrations/statements.js'
import {findCompatibility} from '../dist/lib/schema/compat.js'
import {expectedSchema} from '../dist/lib/schema/expected.js'

const MODELS = 200
const MIGRATIONS = 50
const RUNS = 7

const fields = i => ['id Int @id @default(autoincrement())', 'name String', 'email String? @db.VarChar(200)', 'createdAt DateTime @default(now())', `status Status${i % 3}`, 'score Float?', 'data Json?']
const schema = [
  ...[0, 1, 2].map(e => `enum Status${e} {\n  NEW\n  OPEN\n  CLOSED\n}`),
  ...Array.from({length: MODELS}, (_, i) => `model Thing${i} {\n  ${fields(i).join('\n  ')}\n}`),
].join('\n\n')

const column = (name, udt, options = {}) => ({column: name, udt, array: false, enum: false, maxLength: null, nullable: false, hasDefault: false, ...options})
const catalog = {
  tables: new Map(Array.from({length: MODELS}, (_, i) => [`public.Thing${i}`, [
    column('id', 'int4', {hasDefault: true}), column('name', 'text'), column('email', 'varchar', {maxLength: i < MIGRATIONS ? 100 : 200, nullable: true}),
    column('createdAt', 'timestamp', {hasDefault: true}), column('status', `Status${i % 3}`, {enum: true}), column('score', 'float8', {nullable: true}), column('data', 'jsonb', {nullable: true}),
  ]])),
  enums: new Map([0, 1, 2].map(e => [`public.Status${e}`, ['NEW', 'OPEN', 'CLOSED']])),
}
const migrationSql = Array.from({length: MIGRATIONS}, (_, i) => `-- AlterTable\nALTER TABLE "Thing${i}" ALTER COLUMN "email" SET DATA TYPE VARCHAR(100);\nCREATE INDEX "Thing${i}_name_idx" ON "Thing${i}"("name");\n`)

async function once() {
  const started = process.cpuUsage()
  const expected = expectedSchema([{path: 'schema.prisma', text: schema}])
  const migrations = await Promise.all(migrationSql.map(async (sql, i) => ({name: `2026${String(i).padStart(4, '0')}_narrow`, statements: await parseStatements(sql, 'bench')})))
  const findings = findCompatibility(expected, catalog, {defaultSchema: 'public', inUse: new Map(), migrations})
  const {user, system} = process.cpuUsage(started)
  return {ms: (user + system) / 1000, findings: findings.length}
}

const first = await once()
const rest = []
for (let i = 0; i < RUNS; i++) rest.push(await once())
const median = [...rest.map(r => r.ms)].sort((a, b) => a - b)[Math.floor(RUNS / 2)]
console.log(`schema gate: ${MODELS} models, ${MIGRATIONS} migrations since the target, ${first.findings} findings`)
console.log(`  first run (module loading and parser warm-up included): ${first.ms.toFixed(0)} ms CPU`)
console.log(`  median of ${RUNS} further runs: ${median.toFixed(0)} ms CPU (goal: under 300 ms)`)
