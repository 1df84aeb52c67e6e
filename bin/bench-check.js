#!/usr/bin/env node
// How long migrate:check takes on PGlite: a project of 100 migrations (tables, columns, indexes, enums,
// foreign keys, each with a correct down.sql), with and without --data; the check migrate:down runs
// before its confirmation, for 3 migrations; and generating the downs with Prisma's WebAssembly schema
// engine when there is no down.sql at all (--generate, --generate-missing). Run with `npm run bench:check`.
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {checkMigrations} from '../dist/lib/migrations/check/gather.js'
import {checkDowns} from '../dist/lib/migrations/check/down-check.js'
import {generateDowns} from '../dist/lib/migrations/generate/generate.js'
import {readLocalMigrations} from '../dist/lib/migrations/project.js'

const COUNT = Number(process.argv[2] ?? 100)

// Migration i of a growing schema: every fourth one a table, the others change the newest table.
function migration(i) {
  const table = `T${Math.floor(i / 4) * 4}`
  switch (i % 4) {
    case 0: return {
      sql: `CREATE TABLE "${table}" ("id" SERIAL NOT NULL, "name" TEXT NOT NULL, "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "${table}_pkey" PRIMARY KEY ("id"));\nCREATE UNIQUE INDEX "${table}_name_key" ON "${table}"("name");\n`,
      down: `DROP TABLE "${table}";\n`,
    }
    case 1: return {
      sql: `ALTER TABLE "${table}" ADD COLUMN "note" VARCHAR(200);\nCREATE INDEX "${table}_note_idx" ON "${table}"("note");\n`,
      down: `DROP INDEX "${table}_note_idx";\nALTER TABLE "${table}" DROP COLUMN "note";\n`,
    }
    case 2: return {
      sql: `CREATE TYPE "Kind${i}" AS ENUM ('A', 'B', 'C');\nALTER TABLE "${table}" ADD COLUMN "kind" "Kind${i}" NOT NULL DEFAULT 'A';\n`,
      down: `ALTER TABLE "${table}" DROP COLUMN "kind";\nDROP TYPE "Kind${i}";\n`,
    }
    default: return i < 4
      ? {sql: `ALTER TABLE "${table}" ADD COLUMN "score" INTEGER;\n`, down: `ALTER TABLE "${table}" DROP COLUMN "score";\n`}
      : {
        sql: `ALTER TABLE "${table}" ADD COLUMN "parentId" INTEGER;\nALTER TABLE "${table}" ADD CONSTRAINT "${table}_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "T${Math.floor(i / 4) * 4 - 4}"("id") ON DELETE SET NULL ON UPDATE CASCADE;\n`,
        down: `ALTER TABLE "${table}" DROP CONSTRAINT "${table}_parentId_fkey";\nALTER TABLE "${table}" DROP COLUMN "parentId";\n`,
      }
  }
}

function project(count, {downs = true} = {}) {
  const root = mkdtempSync(join(tmpdir(), 'bench-check-'))
  const dir = join(root, 'prisma', 'migrations')
  mkdirSync(dir, {recursive: true})
  writeFileSync(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n')
  for (let i = 0; i < count; i++) {
    const name = `2026${String(i).padStart(10, '0')}_step_${i}`
    const {sql, down} = migration(i)
    mkdirSync(join(dir, name))
    writeFileSync(join(dir, name, 'migration.sql'), sql)
    if (downs) writeFileSync(join(dir, name, 'down.sql'), down)
  }
  return root
}

const seconds = started => ((Date.now() - started) / 1000).toFixed(1)

const root = project(COUNT)
const undone = project(COUNT, {downs: false})
// PGlite's initialized data folder is cached as the commands cache it (in the CLI's cache folder).
const cacheDir = mkdtempSync(join(tmpdir(), 'bench-check-cache-'))
try {
  // The check migrate:down runs: the app's applied migrations rebuilt on PGlite, the newest 3 staircased.
  // First in the process, so that the first figure includes loading PGlite's WebAssembly, as in a fresh CLI.
  for (const [label, folder, cache] of [
    ['3 applied, fresh process, no cache', project(3), undefined],
    ['3 applied, writing the cache', project(3), cacheDir],
    ['3 applied, cached', project(3), cacheDir],
    [`${COUNT} applied, cached`, root, cacheDir],
  ]) {
    const local = readLocalMigrations(join(folder, 'prisma', 'migrations'))
    const downs = new Map(local.map(m => [m.name, {kind: 'file', path: join(m.dir, 'down.sql'), sql: m.downSql}]))
    const started = Date.now()
    const check = await checkDowns({local, applied: local.map(m => m.name), revert: local.slice(-3).map(m => m.name), downs, skip: false, cacheDir: cache})
    console.log(`migrate:down's down-check, reverting 3 of ${label}: ${seconds(started)} s (${check.outcome}, PGlite start-up included)`)
    if (check.outcome !== 'passed') throw new Error(check.detail)
    if (folder !== root) rmSync(folder, {recursive: true, force: true})
  }
  for (const data of [false, true]) {
    const started = Date.now()
    const report = await checkMigrations({projectDir: root, data, cacheDir}, false)
    const verdicts = Object.entries(report.summary).filter(([, n]) => n > 0).map(([v, n]) => `${n} ${v}`).join(', ')
    console.log(`migrate:check, ${COUNT} migrations${data ? ', --data' : ''}: ${seconds(started)} s (PGlite start-up included; ${verdicts})`)
    if (!report.passed) throw new Error(`expected every down to revert: ${JSON.stringify(report.migrations.filter(m => m.verdict !== 'reverts'))}`)
  }
  // Generating: the engine and its shadow PGlite started in each run (the PGlite data folder from the cache).
  const dir = join(undone, 'prisma', 'migrations')
  const all = readLocalMigrations(dir)
  for (const [label, missing] of [['the newest 3', all.slice(-3)], [`all ${COUNT}`, all]]) {
    const started = Date.now()
    const downs = await generateDowns({all, missing, migrationsDir: dir, projectDir: undone, schema: 'public', cacheDir})
    const failed = [...downs.values()].filter(d => d.kind !== 'generated')
    console.log(`generating the downs of ${label} of ${COUNT} migrations (Prisma's WebAssembly schema engine, PGlite shadow): ${seconds(started)} s`)
    if (failed.length > 0) throw new Error(JSON.stringify(failed))
  }
  const started = Date.now()
  const report = await checkMigrations({projectDir: undone, data: false, cacheDir, generate: {write: false}}, false)
  console.log(`migrate:check --generate-missing, ${COUNT} migrations without down.sql: ${seconds(started)} s (generation, then the staircase with sample rows for each generated down)`)
  if (!report.passed) throw new Error(`expected every generated down to revert: ${JSON.stringify(report.migrations.filter(m => m.verdict !== 'reverts'))}`)
} finally {
  rmSync(root, {recursive: true, force: true})
  rmSync(undone, {recursive: true, force: true})
  rmSync(cacheDir, {recursive: true, force: true})
}
