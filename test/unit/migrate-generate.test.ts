import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {checkDownsWithVerdicts} from '../../src/lib/migrations/check/down-check.js'
import type {DownSql} from '../../src/lib/migrations/down-source.js'
import {bindingsFit, BUNDLED_PRISMA, loadEngine, projectPrismaVersion} from '../../src/lib/migrations/generate/engine.js'
import {generateDowns, generatedFile, withoutTransactionLines} from '../../src/lib/migrations/generate/generate.js'
import {columnTypeOf} from '../../src/lib/migrations/generate/shadow.js'
import {writeGeneratedDowns} from '../../src/lib/migrations/generate/write.js'
import {hasSchemaEngineBinary} from '../../src/lib/migrations/prisma-cli.js'
import type {LocalMigration} from '../../src/lib/migrations/project.js'

const temps: string[] = []
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'generate-'))
  temps.push(dir)
  return dir
}

// The smallest wasm module that imports one function from the glue's module.
function wasmImporting(name: string): WebAssembly.Module {
  const text = (s: string) => [s.length, ...Buffer.from(s)]
  const imports = [1, ...text('./schema_engine_bg.js'), ...text(name), 0x00, 0x00]
  const bytes = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x02, imports.length, ...imports]
  return new WebAssembly.Module(Uint8Array.from(bytes))
}

const migration = (dir: string, name: string, sql: string): LocalMigration => ({name, dir: join(dir, name), sql})

describe('down SQL from Prisma\'s WebAssembly schema engine', () => {
  after(() => {
    for (const dir of temps.splice(0)) rmSync(dir, {recursive: true, force: true})
  })

  it('drives only an engine build whose imports and exports these bindings match', () => {
    const fn = () => {}
    assert.equal(bindingsFit(wasmImporting('__wbg_known_1'), {__wbg_known_1: fn}, 'wasm.memory; '), false, 'the glue calls an export the module lacks')
    assert.equal(bindingsFit(wasmImporting('__wbg_known_1'), {__wbg_known_1: fn}, ''), true)
    assert.equal(bindingsFit(wasmImporting('__wbg_other_2'), {__wbg_known_1: fn}, ''), false, 'another wasm-bindgen\'s import')
  })

  it('reads the project\'s Prisma version as installed, else as its package.json asks, and says when the engine is another release', async () => {
    const declared = temp()
    writeFileSync(join(declared, 'package.json'), JSON.stringify({devDependencies: {prisma: '^6.19.0'}}))
    assert.deepEqual(projectPrismaVersion(declared), {version: '^6.19.0', installed: false})
    const {info} = await loadEngine(declared)
    assert.equal(info.source, 'bundled')
    assert.equal(info.prisma, BUNDLED_PRISMA)
    assert.equal(info.commit, '0edf323efd1d98336f3f0a68684b56f689b900d3')
    assert.equal(info.mismatch, `The project's package.json asks for Prisma ^6.19.0 (not installed), not ${BUNDLED_PRISMA}: this SQL comes from Prisma ${BUNDLED_PRISMA}'s schema engine, so it may differ from what the project's release would generate`)
    const same = temp()
    writeFileSync(join(same, 'package.json'), JSON.stringify({dependencies: {'@prisma/client': `~${BUNDLED_PRISMA}`}}))
    assert.equal((await loadEngine(same)).info.mismatch, undefined)
  })

  it('knows a Prisma CLI that has its engine binary from one that would try to download it', () => {
    const root = temp()
    mkdirSync(join(root, 'node_modules', '.bin'), {recursive: true})
    mkdirSync(join(root, 'node_modules', '@prisma', 'engines'), {recursive: true})
    writeFileSync(join(root, 'node_modules', '@prisma', 'engines', 'schema-engine-debian-openssl-3.0.x.gz'), '')
    const cli = {bin: join(root, 'node_modules', '.bin', 'prisma'), version: '7.10.1', major: 7}
    assert.equal(hasSchemaEngineBinary(cli, {}), false, 'a half-downloaded archive is not a binary')
    writeFileSync(join(root, 'node_modules', '@prisma', 'engines', 'schema-engine-debian-openssl-3.0.x'), '')
    assert.equal(hasSchemaEngineBinary(cli, {}), true)
    assert.equal(hasSchemaEngineBinary(cli, {PRISMA_SCHEMA_ENGINE_BINARY: join(root, 'none')}), false)
  })

  it('hands the engine the column types it expects for what PGlite reads back', () => {
    assert.equal(columnTypeOf(16), 5, 'bool: Boolean')
    assert.equal(columnTypeOf(23), 0, 'int4: Int32')
    assert.equal(columnTypeOf(19), 7, 'name: Text (the type Prisma 6\'s adapters could not read)')
    assert.equal(columnTypeOf(1009), 71, 'text[]: TextArray')
    assert.equal(columnTypeOf(1003), 71, 'name[]: TextArray')
    assert.equal(columnTypeOf(16_384), 7, 'an enum: Text')
  })

  it('leaves out the BEGIN/COMMIT Prisma wraps an enum\'s re-creation in, and says so when there is nothing to revert', async () => {
    assert.equal(withoutTransactionLines('-- AlterEnum\nBEGIN;\nCREATE TYPE "R_new" AS ENUM (\'A\');\nCOMMIT;\n'), '-- AlterEnum\nCREATE TYPE "R_new" AS ENUM (\'A\');\n')
    assert.equal(withoutTransactionLines('UPDATE t SET note = \'BEGIN;\';\n'), 'UPDATE t SET note = \'BEGIN;\';\n')
    const {info} = await loadEngine(temp())
    assert.match(generatedFile('m1', info, '-- This is an empty migration.\n'), /^-- Down migration for m1, generated by Prisma 7\.10\.0's schema engine[\s\S]*\n-- Prisma found no schema change to revert\.\n$/)
  })

  it('generates each down on one shadow database: in the app\'s schema, CONCURRENTLY replayed without it, a new enum value used at once, and a broken migration said', async function () {
    this.timeout(300_000)
    const dir = temp()
    const all = [
      migration(dir, '20260101000000_init', 'CREATE TABLE "User" ("id" SERIAL NOT NULL, "name" TEXT, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\n'),
      migration(dir, '20260201000000_index_name', 'CREATE INDEX CONCURRENTLY "User_name_idx" ON "User"("name");\n'),
      migration(dir, '20260301000000_add_role', 'CREATE TYPE "Role" AS ENUM (\'USER\', \'ADMIN\');\nALTER TABLE "User" ADD COLUMN "role" "Role" NOT NULL DEFAULT \'USER\';\n'),
      // 55P04 inside a transaction: the value cannot be used before it is committed.
      migration(dir, '20260401000000_owner_by_default', 'ALTER TYPE "Role" ADD VALUE \'OWNER\';\nALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT \'OWNER\';\n'),
      migration(dir, '20260501000000_add_bio', 'ALTER TABLE "User" ADD COLUMN "bio" TEXT;\n'),
      migration(dir, '20260601000000_broken', 'ALTER TABLE "Nope" ADD COLUMN "x" INTEGER;\n'),
      migration(dir, '20260701000000_after_broken', 'ALTER TABLE "User" ADD COLUMN "age" INTEGER;\n'),
    ]
    const downs = await generateDowns({all, missing: all, migrationsDir: dir, projectDir: dir, schema: 'app', cacheDir: temp()})
    const sql = (name: string) => {
      const down = downs.get(name) as DownSql
      assert.equal(down.kind, 'generated', `${name}: ${JSON.stringify(down)}`)
      return (down as {sql: string}).sql
    }
    assert.match(sql('20260101000000_init'), /^DROP TABLE "app"\."User";$/m)
    assert.match(sql('20260201000000_index_name'), /^DROP INDEX "app"\."User_name_idx";$/m)
    assert.match(sql('20260301000000_add_role'), /^ALTER TABLE "app"\."User" DROP COLUMN "role";$/m)
    assert.match(sql('20260301000000_add_role'), /^DROP TYPE "app"\."Role";$/m)
    const owner = sql('20260401000000_owner_by_default')
    assert.match(owner, /^CREATE TYPE "app"\."Role_new" AS ENUM \('USER', 'ADMIN'\);$/m)
    assert.match(owner, /^ALTER TABLE "app"\."User" ALTER COLUMN "role" SET DEFAULT 'USER';$/m)
    assert.doesNotMatch(owner, /^(BEGIN|COMMIT);$/m)
    // The replays after the fallback still start from exactly the migrations before each.
    assert.match(sql('20260501000000_add_bio'), /^-- AlterTable\nALTER TABLE "app"\."User" DROP COLUMN "bio";\n$/m)
    assert.deepEqual(downs.get('20260601000000_broken'), {kind: 'missing', reason: '20260601000000_broken has no down.sql, and Prisma\'s schema engine could not generate one (Migration `20260601000000_broken` failed to apply cleanly to the shadow database: relation "Nope" does not exist). Write it by hand beside migration.sql as down.sql.'})
    assert.match((downs.get('20260701000000_after_broken') as {reason: string}).reason, /^20260701000000_after_broken has no down\.sql, and none could be generated: 20260601000000_broken could not be applied on the shadow database \(relation "Nope" does not exist\)\.$/)

    // The down-check runs them in the app's schema too, where they name their tables.
    const applied = all.slice(0, 5)
    const {check, verdicts} = await checkDownsWithVerdicts({local: applied, applied: applied.map(m => m.name), revert: ['20260501000000_add_bio', '20260201000000_index_name'], downs, skip: false, schema: 'app'})
    assert.equal(check.outcome, 'passed', check.detail)
    assert.deepEqual(verdicts.map(v => v.verdict), ['reverts', 'reverts'])
  })

  it('writes a proven down once, and never over a file, nor one the check found wrong or did not check', () => {
    const dir = temp()
    for (const name of ['m1', 'm2', 'm3', 'm4']) mkdirSync(join(dir, name))
    writeFileSync(join(dir, 'm2', 'down.sql'), '-- by hand\n')
    const results = writeGeneratedDowns([
      {migration: 'm1', dir: join(dir, 'm1'), sql: 'DROP TABLE a;\n', verdict: 'reverts'},
      {migration: 'm2', dir: join(dir, 'm2'), sql: 'DROP TABLE b;\n', verdict: 'reverts'},
      {migration: 'm3', dir: join(dir, 'm3'), sql: 'DROP TABLE c;\n', verdict: 'differs'},
      {migration: 'm4', dir: join(dir, 'm4'), sql: 'DROP TABLE d;\n'},
    ])
    assert.deepEqual(results.map(r => r.written ? 'written' : r.reason), [
      'written',
      'not written: a down.sql is already there (never overwritten)',
      'not written: the check found it wrong (see above): fix it by hand first',
      'not written: it was not checked (--skip-down-check)',
    ])
    assert.equal(readFileSync(join(dir, 'm1', 'down.sql'), 'utf8'), 'DROP TABLE a;\n')
    assert.equal(readFileSync(join(dir, 'm2', 'down.sql'), 'utf8'), '-- by hand\n')
  })
})
