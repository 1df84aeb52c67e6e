import assert from 'node:assert/strict'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {seedDataLoss} from '../src/sandbox/seeds/data-loss.js'
import {brokenAppSpec} from '../src/sandbox/seeds/broken-app.js'
import {loadApp} from '../src/sandbox/scenarios/load.js'
import type {Addon, App} from '../src/sandbox/index.js'
import pg from 'pg'
import {heroku, Result} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'

// A point-in-time recovery through the real CLI, with writes made after the recovery point, then
// `heroku db:reconcile` on the old database (still attached under a colour name) and the promoted one.

const workDir = mkdtempSync(join(tmpdir(), 'db-reconcile-'))
after(() => rmSync(workDir, {recursive: true, force: true}))

const attachmentsOf = (app: App) => sandbox().state.attachmentsOf(app)
const addonAttachedAs = (app: App, name: string) => sandbox().state.addons.get(attachmentsOf(app).find(a => a.name === name)!.addon.id)!
const emails = async (addon: Addon, where: string) => (await sandbox().sql(addon, `SELECT email FROM customers WHERE ${where} ORDER BY id`)).map(r => r.email)

// Writes after the recovery point, on the database that is about to be replaced: the mass DELETE of
// seedDataLoss (the damage), then an order table, new customers and an update.
const AFTER_RECOVERY = `
  INSERT INTO customers (email) SELECT 'late' || g || '@example.com' FROM generate_series(1, 5) g;
  UPDATE customers SET email = 'renamed-3@example.com' WHERE id = 3;`

interface Recovered {
  name: string
  app: App
  old: Addon
  current: Addon
  alias: string
  recover: Result
}

async function recoverWithLateWrites(prefix: string): Promise<Recovered> {
  const name = appName(prefix)
  const loss = await seedDataLoss(sandbox(), name)
  await sandbox().sql(loss.database, AFTER_RECOVERY)
  const recover = await heroku(['db:recover', '--app', name, '--to', loss.beforeLoss, '--confirm', name, '--json'])
  assert.equal(recover.code, 0, recover.stderr)
  const alias = attachmentsOf(loss.app).find(a => a.addon.id === loss.database.id && a.name !== 'DATABASE')!.name
  return {name, app: loss.app, old: loss.database, current: addonAttachedAs(loss.app, 'DATABASE'), alias, recover}
}

function assertNoRowValues(result: Result) {
  const output = result.stdout + result.stderr
  for (const value of ['late1@example.com', 'renamed-3', 'customer21@example.com', 'vip1@example.com']) {
    assert.ok(!output.includes(value), `a row value (${value}) was printed`)
  }
}

const folderIn = (label: string) => join(workDir, label)

// Another session holds a SHARE lock on the table (from the moment `from` holds): reads go on, a write
// waits. `blocked` turns true once a write of the plugin waits for it, the moment to press Ctrl-C.
async function holdWriteLock(addon: Addon, table: string, from: () => boolean | Promise<boolean> = () => true) {
  const connect = async () => {
    const client = new pg.Client({connectionString: addon._database!.url})
    client.on('error', () => {})
    await client.connect()
    return client
  }
  const lock = {blocked: false}
  let holder: pg.Client | undefined
  let busy = false
  const timer = setInterval(async () => {
    if (busy || lock.blocked) return
    busy = true
    try {
      if (!holder && await from()) {
        holder = await connect()
        await holder.query(`BEGIN; LOCK TABLE ${table} IN SHARE MODE`)
      }
      if (holder) lock.blocked = (await sandbox().sql(addon, 'SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted'))[0].n > 0
    } catch {
      // The database may be busy being copied, and a copy ends the sessions on it (the lock's too): take
      // the lock again on the next tick.
      await holder?.end().catch(() => {})
      holder = undefined
    } finally {
      busy = false
    }
  }, 50)
  const release = async () => {
    clearInterval(timer)
    await holder?.query('ROLLBACK').catch(() => {})
    await holder?.end().catch(() => {})
  }
  return {lock, release}
}

// Sessions of the plugin still connected to the database: none may be left behind.
const otherSessions = async (addon: Addon) => (await sandbox().sql(addon, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()'))[0].n

describe('heroku db:reconcile', function () {
  this.timeout(120_000)
  let recovered: Recovered

  before(async function () {
    this.timeout(120_000)
    recovered = await recoverWithLateWrites('reconcile')
  })

  it('db:recover ends with the exact db:reconcile command, in --json too, after fencing the sequences', async () => {
    const document = JSON.parse(recovered.recover.stdout)
    const since = document.plan.target.at
    assert.equal(document.reconcile, `heroku db:reconcile --app ${recovered.name} --from ${recovered.alias} --to DATABASE_URL --since ${since}`)
    assert.ok(document.plan.steps.some((s: string) => /^Advance every sequence of the new database/.test(s)), 'the fence is in the plan')
    assert.deepEqual(document.outcome.sequenceFence, [{sequence: 'customers_id_seq', from: '60', to: '65'}])
    const [{id}] = await sandbox().sql(recovered.current, 'INSERT INTO customers (email) VALUES ($1) RETURNING id', ['after-promote@example.com'])
    assert.equal(id, 66, 'a row inserted after the promote takes an id no late write has')
    await sandbox().sql(recovered.current, 'DELETE FROM customers WHERE id = 66')
  })

  it('classifies the rows, writes the folder privately, and prints counts only', async () => {
    const out = folderIn('compare')
    const result = await heroku(['db:reconcile', '--app', recovered.name, '--from', recovered.alias, '--to', 'DATABASE_URL', '--out', out])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /customers\s+5\s+1\s+40/)
    assert.match(result.stdout, /Nothing was changed/)
    assertNoRowValues(result)

    assert.equal(statSync(out).mode & 0o777, 0o700)
    for (const file of ['summary.json', 'replay.sql', 'customers/inserted.csv', 'customers/updated.csv', 'customers/deleted.csv']) {
      assert.equal(statSync(join(out, file)).mode & 0o777, 0o600, `${file} is private`)
    }
    assert.deepEqual(readdirSync(join(out, 'customers')).sort(), ['deleted.csv', 'inserted.csv', 'updated.csv'])
    const inserted = readFileSync(join(out, 'customers/inserted.csv'), 'utf8').trim().split('\n')
    assert.equal(inserted[0], 'id,email,created_at')
    assert.deepEqual(inserted.slice(1).map(l => l.split(',')[1]), ['late1@example.com', 'late2@example.com', 'late3@example.com', 'late4@example.com', 'late5@example.com'])
    assert.deepEqual(readFileSync(join(out, 'customers/updated.csv'), 'utf8').trim().split('\n'), ['id,column,OLD,DATABASE,note', '3,email,renamed-3@example.com,customer3@example.com,OLD changed it: carried over'])
    assert.equal(readFileSync(join(out, 'customers/deleted.csv'), 'utf8').trim().split('\n').length, 41)
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))
    assert.deepEqual(summary.totals, {inserted: 5, updated: 1, deleted: 40, conflicts: 0, kept: 0})
    assert.equal(JSON.stringify(summary).includes('@example.com'), false, 'summary.json holds counts, not rows')
    assert.match(readFileSync(join(out, 'replay.sql'), 'utf8'), /^-- DELETE FROM "public"."customers" WHERE "id" = '21';$/m)
  })

  it('--json carries the counts and no row value', async () => {
    const result = await heroku(['db:reconcile', '--app', recovered.name, '--from', recovered.alias, '--out', folderIn('json'), '--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = JSON.parse(result.stdout)
    assert.deepEqual(document.tables.map((t: any) => [t.table, t.inserted, t.updated, t.deleted]), [['customers', 5, 1, 40]])
    assert.equal(document.applied, null)
    assertNoRowValues(result)
  })

  it('--apply carries the writes over in one transaction; a second --apply changes nothing', async () => {
    const first = await heroku(['db:reconcile', '--app', recovered.name, '--from', recovered.alias, '--out', folderIn('apply-1'), '--apply', '--confirm', recovered.name, '--json'])
    assert.equal(first.code, 0, first.stderr)
    assert.deepEqual(JSON.parse(first.stdout).applied.changed, {customers: 6})
    assert.deepEqual(await emails(recovered.current, 'id IN (3, 61, 65)'), ['renamed-3@example.com', 'late1@example.com', 'late5@example.com'])
    assert.equal((await emails(recovered.current, 'id > 20 AND id <= 60')).length, 40, 'deleted rows are left for a person to decide')
    assertNoRowValues(first)

    const second = await heroku(['db:reconcile', '--app', recovered.name, '--from', recovered.alias, '--out', folderIn('apply-2'), '--apply', '--confirm', recovered.name])
    assert.equal(second.code, 0, second.stderr)
    assert.match(second.stdout, /customers\s+0\s+0\s+40/)
    assert.match(second.stdout, /replay.sql changed nothing/)
  })

  it('--dry-run with --apply compares and writes the folder, and applies nothing', async () => {
    const out = folderIn('dry-run')
    await sandbox().sql(recovered.old, 'INSERT INTO customers (email) VALUES (\'dry@example.com\')')
    const result = await heroku(['db:reconcile', '--app', recovered.name, '--from', recovered.alias, '--out', out, '--apply', '--dry-run', '--confirm', recovered.name, '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(JSON.parse(result.stdout).applied, null)
    assert.match(readFileSync(join(out, 'replay.sql'), 'utf8'), /dry@example\.com/)
    assert.deepEqual(await emails(recovered.current, 'email = \'dry@example.com\''), [], 'nothing carried over')
  })

  it('--tables and --exclude limit the comparison', async () => {
    await sandbox().sql(recovered.old, 'CREATE TABLE IF NOT EXISTS coupons (code text PRIMARY KEY)')
    const only = await heroku(['db:reconcile', '--app', recovered.name, '--from', recovered.alias, '--out', folderIn('tables'), '--tables', 'customers', '--json'])
    assert.deepEqual(JSON.parse(only.stdout).tablesOnlyInOld, [])
    const without = await heroku(['db:reconcile', '--app', recovered.name, '--from', recovered.alias, '--out', folderIn('exclude'), '--exclude', 'customers', '--json'])
    const document = JSON.parse(without.stdout)
    assert.deepEqual([document.tables, document.tablesOnlyInOld], [[], ['coupons']])
    await sandbox().sql(recovered.old, 'DROP TABLE coupons')
  })

  it('--apply with the wrong confirmation changes nothing', async () => {
    const before = await sandbox().sql(recovered.current, 'SELECT count(*)::int AS n FROM customers')
    await sandbox().sql(recovered.old, 'INSERT INTO customers (email) VALUES (\'later@example.com\')')
    const result = await heroku(['db:reconcile', '--app', recovered.name, '--from', recovered.alias, '--out', folderIn('wrong'), '--apply', '--confirm', 'other-app'])
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, /did not match/)
    assert.deepEqual(await sandbox().sql(recovered.current, 'SELECT count(*)::int AS n FROM customers'), before)
  })

  it('Ctrl-C while --apply\'s transaction waits rolls it back: nothing carried over, no session left, exit 130', async () => {
    await sandbox().sql(recovered.old, 'INSERT INTO customers (email) VALUES (\'interrupted@example.com\')')
    const before = await sandbox().sql(recovered.current, 'SELECT count(*)::int AS n FROM customers')
    const {lock, release} = await holdWriteLock(recovered.current, 'customers')
    let result: Result
    try {
      result = await heroku(['db:reconcile', '--app', recovered.name, '--from', recovered.alias, '--out', folderIn('interrupted'), '--apply', '--confirm', recovered.name, '--json'],
        {signalAfter: {when: () => lock.blocked, signal: 'SIGINT'}})
    } finally {
      sandbox().latencyMs = 0
      await release()
    }
    assert.equal(result.code, 130, result.stderr)
    const document = JSON.parse(result.stdout)
    assert.deepEqual(document.run.steps.map((s: {id: string, state: string}) => `${s.id}:${s.state}`), ['replay:interrupted'])
    assert.match(document.run.steps[0].error, /stopped by the interrupt|cancel/i)
    assert.deepEqual(await sandbox().sql(recovered.current, 'SELECT count(*)::int AS n FROM customers'), before, 'the transaction was rolled back')
    assert.deepEqual(await emails(recovered.current, 'email = \'interrupted@example.com\''), [])
    assert.equal(await otherSessions(recovered.current), 0)
  })

  describe('refuses, with nothing written', () => {
    const refused = async (label: string, args: string[], message: RegExp) => {
      const out = folderIn(label)
      const result = await heroku(['db:reconcile', ...args, '--out', out])
      assert.notEqual(result.code, 0)
      assert.match(result.stderr, message)
      assert.match(result.stderr, /Nothing was changed/)
      assert.equal(result.stderr.trim().split('\n').length, 2, result.stderr)
      assert.equal(existsSync(out), false, 'no folder')
    }

    it('the same database twice', () => refused('same', ['--app', recovered.name, '--from', 'DATABASE_URL', '--to', 'DATABASE_URL'], /the same database/))

    it('a database that does not exist', () => refused('missing', ['--app', recovered.name, '--from', 'HEROKU_POSTGRESQL_NOPE'], /--from HEROKU_POSTGRESQL_NOPE/))

    it('OLD attached to another app, which may write to it', async () => {
      const other = sandbox().createApp(appName('reconcile-other'))
      sandbox().state.attach(other, recovered.old, 'SHARED')
      try {
        await refused('shared', ['--app', recovered.name, '--from', recovered.alias], /still SHARED on reconcile-other-\d+-\d+, so an app may still be writing to it/)
      } finally {
        sandbox().state.detach(other, attachmentsOf(other).find(a => a.name === 'SHARED')!)
      }
    })

    it('--apply without a recent backup of DATABASE', async () => {
      const name = appName('reconcile-nobackup')
      const loss = await seedDataLoss(sandbox(), name)
      await sandbox().sql(loss.database, AFTER_RECOVERY)
      const recover = await heroku(['db:recover', '--app', name, '--to', loss.beforeLoss, '--confirm', name, '--no-safety-backup'])
      assert.equal(recover.code, 0, recover.stderr)
      const alias = attachmentsOf(loss.app).find(a => a.addon.id === loss.database.id && a.name !== 'DATABASE')!.name
      await refused('nobackup', ['--app', name, '--from', alias, '--apply', '--confirm', name], /no successful backup.*--capture-backup/)
      assert.equal((await emails(addonAttachedAs(loss.app, 'DATABASE'), 'id > 60')).length, 0, 'nothing carried over')
    })

    describe('--out, checked before anything is read', () => {
      const refusedOut = async (out: string, message: RegExp) => {
        const result = await heroku(['db:reconcile', '--app', recovered.name, '--from', 'HEROKU_POSTGRESQL_NOPE', '--out', out])
        assert.notEqual(result.code, 0)
        assert.match(result.stderr, message)
        assert.doesNotMatch(result.stderr, /HEROKU_POSTGRESQL_NOPE|ENOTDIR|ENOENT|EEXIST|mkdir/, 'refused before --from is even looked up, in words')
        assert.deepEqual(result.stderr.trim().split('\n').slice(1), ['Nothing was changed.'], result.stderr)
      }

      // Refused as every empty value is, when the flags are read.
      it('an empty name', () => refusedOut('', /--out is empty \(an unset shell variable\?\)/))

      it('a path through a file', async () => {
        const file = join(workDir, 'a-file')
        writeFileSync(file, 'x')
        await refusedOut(join(file, 'out'), /--out ".*a-file\/out": .*a-file is not a folder/)
        await refusedOut(file, /--out ".*a-file" exists and is not a folder/)
      })

      it('a folder that is not empty', async () => {
        const full = folderIn('full')
        mkdirSync(full)
        writeFileSync(join(full, 'summary.json'), '{}')
        await refusedOut(full, /--out ".*full" already exists and is not empty/)
      })

      it('a folder under /proc, without hanging', () => refusedOut('/proc/reconcile-out', /--out "\/proc\/reconcile-out" is on a system file system/))

      it('an existing empty folder open to everyone is made private', async () => {
        const open = folderIn('open')
        mkdirSync(open)
        chmodSync(open, 0o777)
        const result = await heroku(['db:reconcile', '--app', recovered.name, '--from', recovered.alias, '--out', open])
        assert.equal(result.code, 0, result.stderr)
        assert.equal(statSync(open).mode & 0o777, 0o700)
      })
    })

    it('OLD that the app still writes to', async () => {
      const name = appName('reconcile-live')
      const loss = await seedDataLoss(sandbox(), name)
      const other = await sandbox().createPostgres(loss.app, 'heroku-postgresql:standard-0', 'HEROKU_POSTGRESQL_SPARE', {release: false})
      await refused('live', ['--app', name, '--from', 'DATABASE_URL', '--to', 'HEROKU_POSTGRESQL_SPARE'], /still .*DATABASE_URL, so an app may still be writing to it/)
      assert.ok(other)
    })
  })
})

describe('heroku db:recover --surgical', function () {
  this.timeout(120_000)

  it('puts back the rows the damage deleted, from a scratch copy, and touches nothing else', async () => {
    const name = appName('surgical')
    const loss = await seedDataLoss(sandbox(), name)
    await sandbox().sql(loss.database, AFTER_RECOVERY)
    const url = loss.app.config.DATABASE_URL
    const out = folderIn('surgical')
    const result = await heroku(['db:recover', '--app', name, '--to', loss.beforeLoss, '--surgical', '--tables', 'customers', '--out', out, '--confirm', name, '--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = JSON.parse(result.stdout)
    assert.deepEqual(document.outcome.putBack, {customers: 40})
    assert.equal(document.outcome.scratch.destroyed, true)
    assert.equal(document.plan.promoteAs, undefined)

    assert.equal(addonAttachedAs(loss.app, 'DATABASE').id, loss.database.id, 'nothing was promoted')
    assert.equal(loss.app.config.DATABASE_URL, url)
    const [{n}] = await sandbox().sql(loss.database, 'SELECT count(*)::int AS n FROM customers')
    assert.equal(n, 20 + 40 + 5, 'the 40 deleted rows are back, the 5 written after the recovery point stay')
    assert.deepEqual(await emails(loss.database, 'id IN (3, 21, 65)'), ['renamed-3@example.com', 'customer21@example.com', 'late5@example.com'],
      'a row updated after the recovery point keeps its update')
    const scratch = [...sandbox().state.addons.values()].find(a => a.name === document.outcome.scratch.addon)!
    assert.equal(scratch.state, 'deprovisioned')
    assert.equal(statSync(out).mode & 0o777, 0o700)
    assert.equal(readFileSync(join(out, 'customers/inserted.csv'), 'utf8').trim().split('\n').length, 41)
    assertNoRowValues(result)

    const again = await heroku(['db:recover', '--app', name, '--to', loss.beforeLoss, '--surgical', '--tables', 'customers', '--out', folderIn('surgical-2'), '--confirm', name, '--no-safety-backup'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /Put back 0 rows/)
  })

  it('Ctrl-C while the put-back waits rolls it back, and the scratch database is destroyed', async () => {
    const name = appName('surgical-int')
    const loss = await seedDataLoss(sandbox(), name)
    // From when the safety backup of DATABASE has succeeded (the last copy of it, which would end the lock's
    // session); the round trip of the maintenance step that follows leaves time to take it on a loaded machine.
    const earlier = sandbox().state.transfers.length
    const backedUp = () => sandbox().state.transfers.slice(earlier).some(t => t._addonId === loss.database.id && t.succeeded)
    const {lock, release} = await holdWriteLock(loss.database, 'customers', backedUp)
    sandbox().latencyMs = 400
    let result: Result
    try {
      result = await heroku(['db:recover', '--app', name, '--to', loss.beforeLoss, '--surgical', '--tables', 'customers', '--out', folderIn('surgical-int'), '--confirm', name, '--json'],
        {signalAfter: {when: () => lock.blocked, signal: 'SIGINT'}})
    } finally {
      sandbox().latencyMs = 0
      await release()
    }
    await sandbox().settle()
    assert.equal(result.code, 130, result.stderr)
    const document = JSON.parse(result.stdout)
    const states = Object.fromEntries(document.run.steps.map((s: {id: string, state: string}) => [s.id, s.state]))
    assert.equal(states['put-back'], 'interrupted')
    assert.equal(states['create-scratch'], 'undone')
    const [{n}] = await sandbox().sql(loss.database, 'SELECT count(*)::int AS n FROM customers')
    assert.equal(n, 20, 'no row was put back')
    const scratch = [...sandbox().state.addons.values()].filter(a => a.app.id === loss.app.id && a.id !== loss.database.id)
    assert.ok(scratch.length > 0 && scratch.every(a => a.state === 'deprovisioned'), 'the scratch database is gone')
    assert.equal(await otherSessions(loss.database), 0)
  })
})

// Names from a database are data, never code: a table or column name holding a newline cannot end the
// transaction, run a second statement, or become a psql meta-command (`\!` runs a shell command).
describe('heroku db:reconcile with hostile names, unique conflicts and sequences', function () {
  this.timeout(180_000)
  const ident = (name: string) => `"${name.replace(/"/g, '""')}"`
  const DROPPER = 'e\nEND;DROP TABLE victim;--'
  const shellMark = join(workDir, 'psql-ran-a-shell-command')
  const SHELLER = `e\n\\! touch ${shellMark}`
  const KEY_COLUMN = `id\n\\! touch ${shellMark}-key`
  let recovered: Recovered

  before(async function () {
    this.timeout(180_000)
    recovered = await recoverWithLateWrites('reconcile-hostile')
    for (const side of [recovered.old, recovered.current]) {
      await sandbox().sql(side, `
        CREATE TABLE ${ident(DROPPER)} (id int PRIMARY KEY, v text); INSERT INTO ${ident(DROPPER)} VALUES (1, 'a');
        CREATE TABLE ${ident(SHELLER)} (id int PRIMARY KEY, v text); INSERT INTO ${ident(SHELLER)} VALUES (1, 'a');
        CREATE TABLE keyed (${ident(KEY_COLUMN)} int PRIMARY KEY, v text); INSERT INTO keyed VALUES (1, 'a');
        CREATE TABLE users (id int PRIMARY KEY, email text UNIQUE); INSERT INTO users VALUES (1, 'a@x'), (2, 'b@x');
        CREATE TABLE orders (id serial PRIMARY KEY, note text); INSERT INTO orders (note) SELECT 'o' || g FROM generate_series(1, 100) g;`)
    }
    await sandbox().sql(recovered.current, `CREATE TABLE victim (id int); INSERT INTO victim VALUES (1);
      INSERT INTO keyed VALUES (2, 'only in DATABASE');
      INSERT INTO users VALUES (30, 'c@x');`)
    await sandbox().sql(recovered.old, `INSERT INTO ${ident(DROPPER)} VALUES (2, 'late'); INSERT INTO ${ident(SHELLER)} VALUES (2, 'late');
      INSERT INTO users VALUES (3, 'c@x'), (4, 'd@x');
      INSERT INTO orders (note) SELECT 'late' || g FROM generate_series(101, 110) g;`)
  })

  it('--apply runs no SQL from a name, conflicts on another unique key are listed (never "already there"), sequences move past the carried rows', async () => {
    const out = folderIn('hostile-apply')
    const result = await heroku(['db:reconcile', '--app', recovered.name, '--from', recovered.alias, '--out', out, '--apply', '--confirm', recovered.name])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(await sandbox().sql(recovered.current, 'SELECT count(*)::int AS n FROM victim'), [{n: 1}], 'victim is still there')
    assert.deepEqual((await sandbox().sql(recovered.current, `SELECT v FROM ${ident(DROPPER)} ORDER BY id`)).map(r => r.v), ['a', 'late'])
    assert.deepEqual((await sandbox().sql(recovered.current, 'SELECT id FROM users ORDER BY id')).map(r => r.id), [1, 2, 4, 30], 'row 3 meets row 30 on email')
    assert.doesNotMatch(result.stdout, /already there/)
    assert.match(result.stdout, /Not carried over: 1 row conflicts with an existing row/)
    assert.match(readFileSync(join(out, 'conflicts.sql'), 'utf8'), /INSERT INTO "public"."users" .*'c@x'/)
    assert.match(result.stdout, /Moved 1 sequence past the rows carried over.*orders_id_seq to 110/)
    const [{id}] = await sandbox().sql(recovered.current, 'INSERT INTO orders (note) VALUES (\'next\') RETURNING id')
    assert.equal(id, 111, 'the app\'s next insert takes a free id')
    assert.ok(!/[\u0000-\u0009\u000B-\u001F]/.test(result.stdout + result.stderr), 'no raw control character reaches the terminal')
    assert.match(result.stdout, /e\\nEND;DROP TABLE victim;--/, 'the name is shown escaped')

    const second = await heroku(['db:reconcile', '--app', recovered.name, '--from', recovered.alias, '--out', folderIn('hostile-apply-2'), '--apply', '--confirm', recovered.name, '--json'])
    assert.equal(second.code, 0, second.stderr)
    const applied = JSON.parse(second.stdout).applied
    assert.deepEqual(applied.sequences, [], 'a second --apply moves no sequence')
    assert.equal(Object.values(applied.changed as Record<string, number>).reduce((a, b) => a + b, 0), 0, 'a second --apply changes no row')
  })

  it('replay.sql fed to a real psql runs no shell command and no uncommented delete', async function () {
    const psql = ['/usr/bin/psql', '/usr/local/bin/psql'].find(existsSync)
    if (!psql) this.skip()
    const out = folderIn('hostile-psql')
    const compare = await heroku(['db:reconcile', '--app', recovered.name, '--from', recovered.alias, '--out', out])
    assert.equal(compare.code, 0, compare.stderr)
    const replay = readFileSync(join(out, 'replay.sql'), 'utf8')
    assert.ok(replay.split('\n').every(line => !line.startsWith('\\')), 'no line starts a psql meta-command')
    await sandbox().sql(recovered.current, 'DELETE FROM users WHERE id = 30')
    const {spawnSync} = await import('node:child_process')
    const run = spawnSync(psql!, ['-X', '-v', 'ON_ERROR_STOP=1', '-f', join(out, 'replay.sql'), recovered.current._database!.url], {cwd: workDir, encoding: 'utf8'})
    assert.equal(run.status, 0, run.stderr)
    assert.equal(existsSync(shellMark), false, 'psql ran no shell command from a table name')
    assert.equal(existsSync(`${shellMark}-key`), false, 'psql ran no shell command from a key column name')
    assert.deepEqual((await sandbox().sql(recovered.current, 'SELECT v FROM keyed ORDER BY 1')).map(r => r.v), ['a', 'only in DATABASE'], 'the commented-out delete stayed a comment')
    assert.deepEqual(await sandbox().sql(recovered.current, 'SELECT count(*)::int AS n FROM victim'), [{n: 1}])
  })

  it('refuses --tables that match nothing, a --since that is not a time or in the future, before writing anything', async () => {
    for (const [args, message] of [
      [['--tables', 'nosuch'], /--tables names "nosuch": no such table/],
      [['--tables', ''], /--tables is empty \(an unset shell variable\?\)/],
      [['--tables', ',,,'], /--tables ",,," names no table/],
      [['--since', 'garbage'], /--since "garbage"/],
      [['--since', '2999-01-01T00:00:00Z'], /--since "2999-01-01T00:00:00Z" is in the future/],
    ] as [string[], RegExp][]) {
      const out = folderIn(`refused-${args.join('-').replace(/\W/g, '')}`)
      const result = await heroku(['db:reconcile', '--app', recovered.name, '--from', recovered.alias, '--out', out, ...args])
      assert.notEqual(result.code, 0, `${args.join(' ')} was accepted`)
      assert.match(result.stderr, message)
      assert.doesNotMatch(result.stderr, /--to "/)
      assert.equal(existsSync(out), false, 'no folder')
    }
  })
})

// Issue 23, high 3: OLD and DATABASE share t(id, v, w) at the recovery point, and both take writes after
// it: OLD until it was replaced, DATABASE (the app kept writing) after the promote. Only a comparison
// against the base (the recovered database before anything wrote to it) can tell who changed what.
const AT_RECOVERY_POINT = `
  CREATE TABLE t (id int PRIMARY KEY, v text, w text); INSERT INTO t VALUES (1, 'a', 'x'), (2, 'b', 'y'), (3, 'c', 'z'), (5, 'e', 'q');
  CREATE SCHEMA audit; CREATE TABLE audit.events (id serial PRIMARY KEY, what text); INSERT INTO audit.events (what) VALUES ('login');
  CREATE TABLE prices (id int PRIMARY KEY, price int, doubled int GENERATED ALWAYS AS (price * 2) STORED); INSERT INTO prices (id, price) VALUES (1, 10);
  CREATE TABLE notes (id int PRIMARY KEY); INSERT INTO notes VALUES (1);`
const OLD_AFTER = `
  UPDATE t SET v = 'old-upd' WHERE id = 1; UPDATE t SET w = 'old-w' WHERE id = 2; INSERT INTO t VALUES (4, 'new', 'n'); DELETE FROM t WHERE id = 5;
  INSERT INTO audit.events (what) VALUES ('late');
  UPDATE prices SET price = 11 WHERE id = 1; INSERT INTO prices (id, price) VALUES (2, 20);
  ALTER TABLE notes ADD COLUMN "c\u001b[2J" text;`
const DATABASE_AFTER = `
  UPDATE t SET v = 'cur-upd' WHERE id = 1; UPDATE t SET v = 'cur-v' WHERE id = 2; DELETE FROM t WHERE id = 3; INSERT INTO t VALUES (6, 'app', 'after');`

async function recoverBothWritten(prefix: string) {
  const name = appName(prefix)
  const spec = brokenAppSpec(name)
  spec.events = [...spec.events!, {sql: AT_RECOVERY_POINT}, {checkpoint: 'point'}]
  const {app, databases, names} = await loadApp(sandbox(), spec)
  await sandbox().sql(databases.DATABASE, OLD_AFTER)
  const recover = await heroku(['db:recover', '--app', name, '--to', names.point, '--confirm', name, '--json'])
  assert.equal(recover.code, 0, recover.stderr)
  const alias = attachmentsOf(app).find(a => a.addon.id === databases.DATABASE.id && a.name !== 'DATABASE')!.name
  const current = addonAttachedAs(app, 'DATABASE')
  await sandbox().sql(current, DATABASE_AFTER)
  return {name, app, old: databases.DATABASE, current, alias, point: names.point, recover: JSON.parse(recover.stdout)}
}

const tRows = async (addon: Addon) => (await sandbox().sql(addon, 'SELECT id, v, w FROM t ORDER BY id')).map(r => `${r.id}|${r.v}|${r.w}`)
const liveLines = (sql: string) => sql.split('\n').filter(line => /^(INSERT|UPDATE|DELETE) /.test(line))

describe('heroku db:reconcile three-way, against the base db:recover records', function () {
  this.timeout(180_000)
  let both: Awaited<ReturnType<typeof recoverBothWritten>>

  before(async function () {
    this.timeout(180_000)
    both = await recoverBothWritten('reconcile-3way')
  })

  it('db:recover records the base before the promote, labelled with its run, and says so', async () => {
    const steps = both.recover.run.steps.map((s: {id: string}) => s.id)
    assert.ok(steps.indexOf('record-base') > steps.indexOf('create-database') && steps.indexOf('record-base') < steps.indexOf('promote'), steps.join())
    assert.ok(steps.indexOf('record-base') < steps.indexOf('maintenance-on'), 'recorded before maintenance mode: no downtime')
    const base = both.recover.outcome.reconcileBase
    assert.equal(base.recorded.schema, `heroku_reconcile_base_${both.recover.run.id.replace(/-/g, '_')}`)
    assert.equal(base.recorded.tables, 5)
    const [about] = await sandbox().sql(both.current, `SELECT run, recovery_point, old_addon_name FROM ${base.recorded.schema}.about`)
    assert.deepEqual([about.run, about.recovery_point.toISOString(), about.old_addon_name], [both.recover.run.id, both.point, both.old.name])
    assert.deepEqual(both.recover.outcome.sequenceFence, [{sequence: 'audit.events_id_seq', from: '1', to: '2'}], 'the fence covers every schema')
  })

  it('--apply carries over only what OLD changed, keeps what DATABASE changed, and reports the conflict with both values', async () => {
    const out = folderIn('three-way')
    const result = await heroku(['db:reconcile', '--app', both.name, '--from', both.alias, '--out', out, '--apply', '--confirm', both.name, '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(await tRows(both.current), ['1|cur-upd|x', '2|cur-v|old-w', '4|new|n', '5|e|q', '6|app|after'],
      'row 2 keeps cur-v and gains old-w; row 1 (changed on both sides) keeps cur-upd; row 3, deleted after the promote, stays deleted; row 5 is left to decide')
    const document = JSON.parse(result.stdout)
    assert.equal(document.against, 'three-way')
    assert.equal(document.base.run, both.recover.run.id)
    assert.equal(document.base.recoveryPoint, both.point)
    const t = document.tables.find((x: {table: string}) => x.table === 't')
    assert.deepEqual([t.inserted, t.updated, t.deleted, t.conflicts, t.kept], [1, 1, 1, 1, 2])
    const conflicts = readFileSync(join(out, 't', 'conflicts.csv'), 'utf8').trim().split('\n')
    assert.equal(conflicts[0], 'id,column,OLD,DATABASE,base (hash),note')
    assert.match(conflicts[1], /^1,v,old-upd,cur-upd,[0-9a-f]{16},changed in both databases since the recovery point$/)
    const replay = readFileSync(join(out, 'replay.sql'), 'utf8')
    assert.deepEqual(liveLines(replay).filter(line => line.includes('"public"."t"')), [
      'INSERT INTO "public"."t" ("id", "v", "w") OVERRIDING SYSTEM VALUE VALUES (\'4\', \'new\', \'n\') ON CONFLICT ("id") DO NOTHING;',
      'UPDATE "public"."t" SET "w" = \'old-w\' WHERE "id" = \'2\' AND "w"::text IS NOT DISTINCT FROM \'y\';',
    ], 'only the column OLD changed is set, guarded on the value it had at the recovery point')
    assert.match(replay, /^-- UPDATE "public"."t" SET "v" = 'old-upd' WHERE "id" = '1' AND "v"::text IS NOT DISTINCT FROM 'cur-upd';$/m, 'the conflict is a comment')
    assert.deepEqual(await sandbox().sql(both.current, 'SELECT id, what FROM audit.events ORDER BY id'), [{id: 1, what: 'login'}, {id: 2, what: 'late'}], 'a table outside the connection\'s schema is compared')
    assert.deepEqual(await sandbox().sql(both.current, 'SELECT id, price, doubled FROM prices ORDER BY id'), [{id: 1, price: 11, doubled: 22}, {id: 2, price: 20, doubled: 40}], 'generated columns are computed, not written')
  })

  it('says which comparison it made, in the singular where it is one, with names escaped', async () => {
    const result = await heroku(['db:reconcile', '--app', both.name, '--from', both.alias, '--out', folderIn('three-way-words'), '--dry-run'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, new RegExp(`Comparison: three-way \\(base from run ${both.recover.run.id} at ${both.point.replace(/\./g, '\\.')}`))
    assert.match(result.stdout, /^ {2}t +0 +0 +1 +1 +3$/m, 'row 2 (v changed in DATABASE), row 3 (deleted from it) and row 6 (written to it) are kept')
    assert.match(result.stdout, /^ {2}audit\.events +0 +0 +0 +0 +0$/m)
    assert.match(result.stdout, /0 rows written and 0 rows updated after the recovery point\. 1 row deleted from OLD after it is still in DATABASE/)
    assert.match(result.stdout, /1 conflict \(changed on both sides/)
    assert.match(result.stdout, /columns only in OLD, not compared: c\\u001b\[2J/)
    assert.ok(!/[\u0000-\u0009\u000B-\u001F]/.test(result.stdout + result.stderr), 'no raw control character reaches the terminal')
  })

  it('refuses a --since other than the base\'s recovery point, before writing anything', async () => {
    const out = folderIn('three-way-since')
    const other = new Date(Date.parse(both.point) - 60_000).toISOString()
    const result = await heroku(['db:reconcile', '--app', both.name, '--from', both.alias, '--out', out, '--since', other])
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, new RegExp(`--since ${other.replace(/\./g, '\\.')} is not the recovery point of the base db:recover recorded .*\\(run ${both.recover.run.id}: ${both.point.replace(/\./g, '\\.')}\\)`))
    assert.equal(existsSync(out), false, 'no folder')
  })

  it('a second --apply changes nothing, and the conflict is still reported, not applied', async () => {
    const result = await heroku(['db:reconcile', '--app', both.name, '--from', both.alias, '--out', folderIn('three-way-2'), '--apply', '--confirm', both.name, '--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = JSON.parse(result.stdout)
    assert.equal(Object.values(document.applied.changed as Record<string, number>).reduce((a, b) => a + b, 0), 0)
    assert.equal(document.totals.conflicts, 1)
    assert.deepEqual(await tRows(both.current), ['1|cur-upd|x', '2|cur-v|old-w', '4|new|n', '5|e|q', '6|app|after'])
  })
})

describe('heroku db:reconcile without a base (recovered by hand, or by an older version)', function () {
  this.timeout(180_000)
  let both: Awaited<ReturnType<typeof recoverBothWritten>>

  before(async function () {
    this.timeout(180_000)
    both = await recoverBothWritten('reconcile-2way')
    await sandbox().sql(both.current, `DO $$ DECLARE s text; BEGIN
      FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 'heroku_reconcile_base%' LOOP EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP; END $$`)
  })

  it('--apply without --prefer is refused before anything is written, in one line', async () => {
    const out = folderIn('two-way-refused')
    const result = await heroku(['db:reconcile', '--app', both.name, '--from', both.alias, '--out', out, '--apply', '--confirm', both.name])
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, /holds no base recorded by db:recover, so the comparison is two-way.*--prefer old\|current/)
    assert.equal(result.stderr.trim().split('\n').length, 2, result.stderr)
    assert.equal(existsSync(out), false, 'no folder')
    assert.deepEqual(await tRows(both.current), ['1|cur-upd|x', '2|cur-v|y', '5|e|q', '6|app|after'])
  })

  it('--dry-run says two-way, and replay.sql holds nothing live that could overwrite or bring a row back', async () => {
    const out = folderIn('two-way-dry')
    const result = await heroku(['db:reconcile', '--app', both.name, '--from', both.alias, '--out', out, '--dry-run', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = JSON.parse(result.stdout)
    assert.deepEqual([document.against, document.base, document.prefer], ['two-way', null, null])
    assert.deepEqual(liveLines(readFileSync(join(out, 'replay.sql'), 'utf8')), [])
    const text = await heroku(['db:reconcile', '--app', both.name, '--from', both.alias, '--out', folderIn('two-way-dry-text'), '--dry-run'])
    assert.match(text.stdout, /Comparison: two-way \(no base\)/)
    assert.match(text.stdout, /Warning: two-way comparison \(no base\)/)
  })

  it('--prefer current keeps DATABASE\'s values where both hold a row, inserts rows only in OLD, warns loudly; a second --apply changes nothing', async () => {
    const result = await heroku(['db:reconcile', '--app', both.name, '--from', both.alias, '--out', folderIn('two-way-current'), '--apply', '--prefer', 'current', '--confirm', both.name])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /Warning: no base, --prefer current: rows both databases hold keep DATABASE's values; rows only in OLD are inserted, which brings back any row deleted from DATABASE after the promote/)
    assert.deepEqual(await tRows(both.current), ['1|cur-upd|x', '2|cur-v|y', '3|c|z', '4|new|n', '5|e|q', '6|app|after'])
    const again = await heroku(['db:reconcile', '--app', both.name, '--from', both.alias, '--out', folderIn('two-way-current-2'), '--apply', '--prefer', 'current', '--confirm', both.name, '--json'])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(Object.values(JSON.parse(again.stdout).applied.changed as Record<string, number>).reduce((a, b) => a + b, 0), 0)
  })
})
