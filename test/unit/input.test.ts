import assert from 'node:assert/strict'
import {readdirSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Config} from '@oclif/core'
import {DURATION_BOUNDS, durationFlag, parseDuration} from '../../src/lib/duration.js'
import {Refused} from '../../src/lib/errors.js'
import {assertAppName, assertReleaseRef, forTerminal, printable} from '../../src/lib/names.js'
import {checkLines, stepLine, stepList} from '../../src/lib/render/index.js'
import {assertTargetFlags, parseTime} from '../../src/lib/recovery/target.js'
import {assertReadOnlyQuery, sideEffectOf} from '../../src/lib/recovery/verify.js'
import {assertNoPasswordInArgv, hasPassword} from '../../src/lib/secrets.js'

// Every refusal is a Refused with a message of one line.
function assertRefusal(work: () => unknown, message: RegExp) {
  assert.throws(work, (error: unknown) => {
    assert.ok(error instanceof Refused, `not a Refused: ${String(error)}`)
    assert.match(error.message, message)
    assert.ok(!error.message.includes('\n'), 'one line')
    return true
  })
}

async function assertRefusalAsync(work: () => Promise<unknown>, message: RegExp) {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(error instanceof Refused, `not a Refused: ${String(error)}`)
    assert.match(error.message, message)
    assert.ok(!error.message.includes('\n'), 'one line')
    return true
  })
}

describe('input: duration flags', () => {
  it('accept the defaults every command ships with, and the edges of each range', () => {
    assert.equal(durationFlag('5s', '--lock-timeout'), 5_000)
    assert.equal(durationFlag('24h', '--max-backup-age'), 86_400_000)
    assert.equal(durationFlag('5m', '--wait-timeout'), 300_000)
    assert.equal(durationFlag('2h', '--wait-timeout'), 7_200_000)
    for (const [flag, {min, max}] of Object.entries(DURATION_BOUNDS)) {
      assert.equal(durationFlag(min, flag as keyof typeof DURATION_BOUNDS), parseDuration(min))
      assert.equal(durationFlag(max, flag as keyof typeof DURATION_BOUNDS), parseDuration(max))
    }
  })

  it('refuse zero, just outside the range, and absurd values, saying the range', () => {
    assertRefusal(() => durationFlag('0s', '--lock-timeout'), /^--lock-timeout 0s is out of range: use between 1s and 5m\.$/)
    assertRefusal(() => durationFlag('0.5s', '--lock-timeout'), /--lock-timeout 0\.5s is out of range/)
    assertRefusal(() => durationFlag('5m1s', '--lock-timeout'), /--lock-timeout 5m1s is out of range/)
    assertRefusal(() => durationFlag('99999999d', '--lock-timeout'), /--lock-timeout 99999999d is out of range: use between 1s and 5m/)
    assertRefusal(() => durationFlag('0s', '--statement-timeout'), /use between 1s and 24h/)
    assertRefusal(() => durationFlag('49h', '--wait-timeout'), /use between 1s and 48h/)
    assertRefusal(() => durationFlag('59s', '--max-backup-age'), /use between 1m and 90d/)
    assertRefusal(() => durationFlag('300000000d', '--by'), /^--by 300000000d is out of range: use between 1s and 30d\.$/)
    assertRefusal(() => durationFlag(`${'9'.repeat(400)}d`, '--by'), /is out of range/)
  })

  it('still refuse what is not a duration, naming the flag', () => {
    assertRefusal(() => durationFlag('soon', '--wait-timeout'), /^--wait-timeout: Invalid duration "soon"/)
  })
})

describe('input: --to times', () => {
  it('accept what was accepted before: ISO 8601 and "YYYY-MM-DD HH:MM[:SS]" with an offset', () => {
    const at = Date.parse('2026-11-24T02:47:00Z')
    for (const text of ['2026-11-24T02:47:00Z', '2026-11-24T02:47Z', '2026-11-24 02:47+00', '2026-11-24 02:47:00+00:00', '2026-11-24 02:47+0000',
      '2026-11-24 02:47 UTC', '2026-11-24T02:47:00.000Z', '2026-11-24t02:47z', ' 2026-11-24 02:47+00 ']) {
      assert.equal(parseTime(text).getTime(), at, text)
    }
    assert.equal(parseTime('2026-11-24T03:47+01').getTime(), at)
    assert.equal(parseTime('2026-11-23T21:17-05:30').getTime(), at)
    assert.equal(parseTime('2026-11-24T02:47:13.250Z').getTime(), at + 13_250)
    assert.equal(parseTime('2028-02-29T00:00Z').toISOString(), '2028-02-29T00:00:00.000Z')
  })

  it('refuse days and times that do not exist instead of rolling them over', () => {
    assertRefusal(() => parseTime('2026-02-30T00:00Z'), /^--to "2026-02-30T00:00Z": 2026-02-30 does not exist\.$/)
    assertRefusal(() => parseTime('2026-02-29 12:00+00'), /2026-02-29 does not exist/)
    assertRefusal(() => parseTime('2026-13-01T00:00Z'), /2026-13-01 does not exist/)
    assertRefusal(() => parseTime('2026-04-31T00:00Z'), /2026-04-31 does not exist/)
    assertRefusal(() => parseTime('2026-11-24T24:00Z'), /24:00 is not a time of day/)
    assertRefusal(() => parseTime('2026-11-24T02:60Z'), /02:60 is not a time of day/)
    assertRefusal(() => parseTime('2026-11-24T02:47:60Z'), /02:47:60 is not a time of day/)
    assertRefusal(() => parseTime('2026-11-24T02:47+24:00'), /\+24:00 is not a time zone offset/)
  })

  it('refuse a time without a zone, and what is not a time', () => {
    assertRefusal(() => parseTime('2026-11-24 02:47'), /has no time zone/)
    assertRefusal(() => parseTime('yesterday UTC'), /is not a time/)
    assertRefusal(() => parseTime('2026-11-24Z'), /is not a time/)
  })

  it('check every way back before anything is read', () => {
    assertTargetFlags({to: '2026-11-24T02:47Z', by: undefined, 'before-release': undefined})
    assertTargetFlags({by: '3h'})
    assertTargetFlags({'before-release': 'v51'})
    assertRefusal(() => assertTargetFlags({to: '2026-02-30T00:00Z'}), /does not exist/)
    assertRefusal(() => assertTargetFlags({by: '0s'}), /--by 0s is out of range/)
    assertRefusal(() => assertTargetFlags({'before-release': 'v50/../51'}), /^--before-release "v50\/\.\.\/51" is not a release: use v50, 50 or a release id\.$/)
  })
})

describe('input: names', () => {
  it('accept Heroku app names and app ids', () => {
    for (const app of ['acme-shop', 'a', 'my-app-2', 'a'.repeat(30), '01234567-89ab-cdef-0123-456789ABCDEF']) assertAppName(app)
  })

  it('refuse anything else, which would address another path', () => {
    for (const app of ['acme-shop?x=1', 'acme/shop', '../apps', 'Acme-Shop', '2shop', '-shop', 'a'.repeat(31), '', 'acme shop', 'acme_shop', 'acme\nshop']) {
      assertRefusal(() => assertAppName(app), /is not a Heroku app name: use lowercase letters, digits and dashes, starting with a letter \(at most 30\), or the app's id\.$/)
    }
    assertRefusal(() => assertAppName('acme-shop?x=1'), /^"acme-shop\?x=1" is not a Heroku app name/)
  })

  it('accept v50, 50 and release ids; nothing given is nothing to check', () => {
    for (const ref of ['v50', 'V50', '50', '1', '01234567-89ab-cdef-0123-456789abcdef', undefined]) assertReleaseRef(ref)
  })

  it('refuse other release references', () => {
    for (const ref of ['v50/../51', 'v', 'v50a', '50?x', 'latest', '', ' 50', '-1', '1'.repeat(11), '01234567-89ab-cdef-0123-456789abcdef/x']) {
      assertRefusal(() => assertReleaseRef(ref), /^Release ".*" is not a release: use v50, 50 or a release id\.$/)
    }
    assertRefusal(() => assertReleaseRef('v5 0', '--before-release'), /^--before-release "v5 0" is not a release/)
  })
})

describe('input: --verify', () => {
  it('accepts one plain read: SELECT, VALUES, TABLE, read-only CTEs and subqueries', async () => {
    for (const sql of ['SELECT count(*) > 0 FROM customers', 'select 1;', 'VALUES (true)', 'TABLE customers',
      'WITH recent AS (SELECT * FROM customers WHERE id > 10) SELECT count(*) FROM recent',
      'SELECT (SELECT count(*) FROM customers) = 60', '-- a comment\nSELECT 1 /* and another */',
      "SELECT 'DELETE FROM customers; DROP TABLE x' <> ''", 'SELECT $$; DROP TABLE customers$$ IS NOT NULL']) {
      await assertReadOnlyQuery(sql)
    }
  })

  it('refuses anything but exactly one statement', async () => {
    await assertRefusalAsync(() => assertReadOnlyQuery('SELECT 1; DROP TABLE customers'), /^--verify must be exactly one query; it has 2 statements\.$/)
    await assertRefusalAsync(() => assertReadOnlyQuery('SELECT 1; SELECT 2'), /it has 2 statements/)
    await assertRefusalAsync(() => assertReadOnlyQuery(''), /^--verify is not valid PostgreSQL: Query cannot be empty/)
    await assertRefusalAsync(() => assertReadOnlyQuery('-- nothing'), /it has 0 statements/)
  })

  it('refuses statements that are not a read', async () => {
    const refused = {
      'DELETE FROM customers RETURNING true': 'DELETE',
      'UPDATE customers SET email = email RETURNING true': 'UPDATE',
      'INSERT INTO customers (email) VALUES (\'x\') RETURNING true': 'INSERT',
      'MERGE INTO customers c USING customers d ON c.id = d.id WHEN MATCHED THEN DELETE': 'MERGE',
      'WITH x AS (SELECT 1) DELETE FROM customers': 'DELETE',
      'DROP TABLE customers': 'DROP',
      'CREATE TABLE copy AS SELECT * FROM customers': 'CREATE',
      'EXPLAIN ANALYZE DELETE FROM customers': 'EXPLAIN',
      'SET transaction_read_only = off': 'SET',
      'COMMIT': 'COMMIT',
    }
    for (const [sql, what] of Object.entries(refused)) {
      await assertRefusalAsync(() => assertReadOnlyQuery(sql), new RegExp(`^--verify must be a query that only reads \\(SELECT, VALUES or TABLE\\), not ${what}\\.$`))
    }
  })

  it('refuses a SELECT that writes or locks: data-modifying CTEs, SELECT INTO, FOR UPDATE/SHARE', async () => {
    await assertRefusalAsync(() => assertReadOnlyQuery('WITH gone AS (DELETE FROM customers RETURNING id) SELECT count(*) FROM gone'), /^--verify must only read: DELETE inside the query changes data\.$/)
    await assertRefusalAsync(() => assertReadOnlyQuery('WITH a AS (SELECT 1), b AS (UPDATE customers SET email = email RETURNING 1) SELECT * FROM b'), /UPDATE inside the query changes data/)
    await assertRefusalAsync(() => assertReadOnlyQuery('SELECT * FROM (WITH i AS (INSERT INTO t VALUES (1) RETURNING 1) SELECT * FROM i) s'), /INSERT inside the query changes data/)
    await assertRefusalAsync(() => assertReadOnlyQuery('SELECT * INTO copy FROM customers'), /^--verify must only read: SELECT INTO creates a table\.$/)
    for (const lock of ['FOR UPDATE', 'FOR NO KEY UPDATE', 'FOR SHARE', 'FOR KEY SHARE']) {
      await assertRefusalAsync(() => assertReadOnlyQuery(`SELECT true FROM customers ${lock}`), /^--verify must only read: FOR UPDATE\/SHARE locks rows\.$/)
    }
    await assertRefusalAsync(() => assertReadOnlyQuery('SELECT EXISTS (SELECT 1 FROM customers FOR UPDATE)'), /FOR UPDATE\/SHARE locks rows/)
  })

  it('refuses what PostgreSQL cannot parse, in one line', async () => {
    await assertRefusalAsync(() => assertReadOnlyQuery('SELEC 1'), /^--verify is not valid PostgreSQL: syntax error at or near "SELEC"/)
  })
})

describe('input: --verify and --keys-from-db call no function with side effects', () => {
  it('refuse signalling, locks, dblink, settings, sequences, notifications, files, large objects, replication, SQL in text', async () => {
    const refused: Record<string, RegExp> = {
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity': /^--verify must only read: pg_terminate_backend\(\) signals other sessions or acts on the server\.$/,
      'SELECT pg_cancel_backend(1)': /pg_cancel_backend\(\) signals other sessions/,
      'SELECT pg_reload_conf()': /pg_reload_conf\(\) signals/,
      'SELECT pg_rotate_logfile()': /pg_rotate_logfile\(\) signals/,
      'SELECT pg_stat_reset()': /pg_stat_reset\(\) resets the server's statistics/,
      'SELECT pg_advisory_lock(42)': /pg_advisory_lock\(\) takes or releases an advisory lock, which outlives the query/,
      'SELECT pg_try_advisory_xact_lock_shared(1, 2)': /pg_try_advisory_xact_lock_shared\(\) takes or releases an advisory lock/,
      'SELECT pg_advisory_unlock_all()': /advisory lock/,
      "SELECT * FROM dblink('dbname=app', 'DELETE FROM customers RETURNING 1') AS t(x int)": /dblink\(\) runs SQL over a connection of its own, outside the read-only transaction/,
      "SELECT dblink_exec('dbname=app', 'DROP TABLE customers')": /dblink_exec\(\) runs SQL over a connection of its own/,
      'SELECT postgres_fdw_disconnect_all()': /postgres_fdw_disconnect_all\(\) runs SQL over a connection/,
      "SELECT set_config('statement_timeout', '0', false)": /set_config\(\) changes a setting/,
      "SELECT nextval('customers_id_seq')": /nextval\(\) moves a sequence, which no rollback undoes/,
      "SELECT setval('customers_id_seq', 1)": /setval\(\) moves a sequence/,
      "SELECT pg_notify('jobs', 'run')": /pg_notify\(\) notifies other sessions/,
      'SELECT txid_current()': /txid_current\(\) assigns a transaction id/,
      'SELECT pg_current_xact_id()': /assigns a transaction id/,
      "SELECT pg_read_file('/etc/passwd')": /pg_read_file\(\) reads or writes the server's files/,
      "SELECT pg_ls_dir('.')": /pg_ls_dir\(\) reads or writes the server's files/,
      'SELECT pg_ls_waldir()': /server's files/,
      "SELECT lo_import('/etc/passwd')": /lo_import\(\) reads or writes large objects/,
      'SELECT lo_unlink(1234)': /large objects/,
      "SELECT pg_create_logical_replication_slot('s', 'pgoutput')": /creates, moves or drops replication state/,
      "SELECT pg_drop_replication_slot('s')": /replication state/,
      "SELECT * FROM pg_logical_slot_get_changes('s', NULL, NULL)": /replication state/,
      "SELECT query_to_xml('SELECT pg_terminate_backend(1)', true, true, '')": /query_to_xml\(\) runs SQL given as text, which this check cannot see/,
      "SELECT ts_stat('SELECT pg_sleep(1)')": /ts_stat\(\) runs SQL given as text/,
      "SELECT brin_summarize_new_values('i')": /rewrites index or catalog data/,
      'SELECT pg_sleep(600)': /pg_sleep\(\) holds the query's locks on the database for nothing/,
    }
    for (const [sql, message] of Object.entries(refused)) await assertRefusalAsync(() => assertReadOnlyQuery(sql), message)
    await assertRefusalAsync(() => assertReadOnlyQuery('SELECT pg_advisory_lock(1)', '--keys-from-db'), /^--keys-from-db must only read: pg_advisory_lock\(\) takes/)
  })

  it('find them schema-qualified, quoted or in capitals', async () => {
    for (const sql of ['SELECT pg_catalog.pg_terminate_backend(1)', 'SELECT "pg_catalog"."pg_terminate_backend"(1)', 'SELECT "pg_terminate_backend"(1)',
      'SELECT PG_TERMINATE_BACKEND(1)', 'SELECT Pg_Catalog.Pg_Terminate_Backend(1)']) {
      await assertRefusalAsync(() => assertReadOnlyQuery(sql), /must only read: pg_terminate_backend\(\) signals other sessions/)
    }
    await assertRefusalAsync(() => assertReadOnlyQuery("SELECT public.dblink('x', 'y')"), /dblink\(\) runs SQL/)
    await assertRefusalAsync(() => assertReadOnlyQuery('SELECT "PG_SLEEP"(1)'), /PG_SLEEP\(\) holds/)
  })

  it('find them nested anywhere: subqueries, CTEs, function arguments, lateral joins, FROM, CASE, ORDER BY, UNION, VALUES', async () => {
    const nested = [
      'SELECT count(*) FROM customers WHERE id IN (SELECT pg_cancel_backend(pid)::int FROM pg_stat_activity)',
      'WITH killed AS (SELECT pg_cancel_backend(pid) FROM pg_stat_activity) SELECT count(*) FROM killed',
      'WITH a AS (SELECT 1), b AS (WITH c AS (SELECT pg_cancel_backend(1)) SELECT * FROM c) SELECT * FROM b',
      'SELECT coalesce(length(pg_cancel_backend(1)::text), 0) > 0',
      'SELECT c.id FROM customers c, LATERAL (SELECT pg_cancel_backend(c.id)) k',
      'SELECT c.id FROM customers c CROSS JOIN LATERAL pg_catalog.pg_cancel_backend(c.id) k',
      'SELECT * FROM pg_cancel_backend(1)',
      'SELECT CASE WHEN true THEN pg_cancel_backend(1) END',
      'SELECT id FROM customers ORDER BY pg_cancel_backend(id)',
      'SELECT 1 UNION ALL SELECT 2 WHERE pg_cancel_backend(2)',
      'VALUES (pg_cancel_backend(1))',
      'SELECT EXISTS (SELECT 1 FROM customers HAVING bool_and(pg_cancel_backend(1)))',
      'SELECT count(*) FILTER (WHERE pg_cancel_backend(1)) FROM customers',
      'SELECT row_number() OVER (ORDER BY pg_cancel_backend(1)) FROM customers',
      'SELECT ARRAY[pg_cancel_backend(1)]',
    ]
    for (const sql of nested) await assertRefusalAsync(() => assertReadOnlyQuery(sql), /^--verify must only read: pg_cancel_backend\(\) signals other sessions or acts on the server\.$/)
  })

  it('still accept ordinary reads: aggregates, casts, string, date and JSON functions, the app\'s own functions', async () => {
    for (const sql of [
      'SELECT count(*) = 60 AND sum(total)::numeric(12, 2) > 0 AND avg(total) < 1e6 FROM orders',
      "SELECT count(*) FILTER (WHERE created_at > now() - interval '1 day') > 0, max(created_at)::date, min(id) FROM customers",
      "SELECT date_trunc('hour', created_at), extract(epoch FROM now() - created_at), to_char(created_at, 'YYYY-MM-DD'), age(created_at) FROM customers",
      "SELECT lower(email) LIKE '%@%', upper(name), length(name), substring(name from 2 for 3), trim(name), split_part(email, '@', 2), regexp_replace(name, '\\s+', ' ', 'g'), concat(a, b), md5(name) FROM customers",
      "SELECT coalesce(nullif(name, ''), 'x'), greatest(1, 2), least(1, 2), abs(-1), round(2.5), ceil(1.2), floor(1.8) FROM customers",
      "SELECT jsonb_array_length(tags), data->>'key', string_agg(name, ', '), array_agg(id), json_agg(name), bool_and(active), every(active) FROM customers GROUP BY 1, 2",
      "SELECT to_regclass('public.customers') IS NOT NULL AND 'customers'::regclass::text = 'customers'",
      "SELECT EXISTS (SELECT 1 FROM customers WHERE id = 1) AND current_date > '2020-01-01' AND current_setting('server_version_num')::int > 0",
      'SELECT app.integrity_ok(), healthy() FROM generate_series(1, 3)',
      'SELECT nextval, pg_sleep, lo_import FROM odd_columns',
      "SELECT s3_key FROM avatars WHERE s3_key <> '' ORDER BY 1",
    ]) {
      await assertReadOnlyQuery(sql)
    }
  })

  it('name the functions by family, whatever the case', () => {
    assert.match(sideEffectOf('PG_TERMINATE_BACKEND')!, /signals other sessions/)
    for (const name of ['count', 'now', 'lower', 'date_trunc', 'coalesce', 'jsonb_agg', 'to_regclass', 'current_setting', 'pg_size_pretty', 'pg_relation_size',
      'pg_stat_get_live_tuples', 'pg_get_viewdef', 'lower_inc', 'logout', 'my_replication_slot_count', 'advisory_notes']) {
      assert.equal(sideEffectOf(name), undefined, name)
    }
  })
})

describe('input: empty values', () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
  const commandFiles = (dir: string): string[] => readdirSync(dir, {withFileTypes: true}).flatMap(entry =>
    entry.isDirectory() ? commandFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [])
  // Each command, with what it needs to parse at all: its required flags and arguments.
  async function commands() {
    const config = await Config.load({root})
    return Promise.all(commandFiles(join(root, 'src', 'commands')).map(async file => {
      const {default: Command} = await import(file)
      const id = relative(join(root, 'src', 'commands'), file).replace(/\.ts$/, '').replace('/', ':')
      const required = (except?: string) => Object.entries<any>(Command.flags).filter(([name, flag]) => flag.required && name !== except).flatMap(([name]) => [`--${name}`, name === 'app' ? 'my-app' : 'x'])
      const args = Object.values<any>(Command.args ?? {}).filter(arg => arg.required).map(() => 'x')
      const parse = (argv: string[], flag?: string) => new Command([...args, ...required(flag), ...argv], config).parse(Command)
      const parseArgs = (values: string[]) => new Command([...values, ...required()], config).parse(Command)
      return {id, Command, parse, parseArgs}
    }))
  }
  // The commands, imported by path, get a module graph of their own (not this file's Refused class): the
  // refusal is recognised by its name and its state.
  async function assertParseRefusal(work: () => Promise<unknown>, message: RegExp) {
    await assert.rejects(work, (error: any) => {
      assert.equal(error?.constructor?.name, 'Refused', String(error))
      assert.equal(error.state, 'Nothing was changed.')
      assert.match(error.message, message)
      return true
    })
  }

  // Flags that take a string (integer flags parse to a number), with the flags each depends on.
  async function stringFlags(Command: any): Promise<[string, string[]][]> {
    const flags = Object.entries<any>(Command.flags)
    const out: [string, string[]][] = []
    for (const [name, flag] of flags) {
      // A flag with fixed options (--prefer old|current) is refused empty by oclif itself: see below.
      if (flag.type !== 'option' || flag.options || typeof await flag.parse('7', {}, flag) !== 'string') continue
      const needed = new Set<string>(flag.dependsOn ?? [])
      for (const other of needed) for (const more of Command.flags[other].dependsOn ?? []) if (more !== name) needed.add(more)
      const needs = [...needed].flatMap(other => Command.flags[other].type === 'boolean' ? [`--${other}`] : [`--${other}`, 'x'])
      out.push([name, needs])
    }
    return out
  }

  it('refuse an empty or blank value for every string flag of every command, naming the flag, when parsing', async () => {
    const all = await commands()
    assert.deepEqual(all.map(c => c.id).sort(), ['db:reconcile', 'db:recover', 'files:protect', 'files:recover', 'migrate:check', 'migrate:down', 'recovery:log', 'recovery:resume', 'recovery:verify', 'safe-rollback'])
    let checked = 0
    for (const {id, Command, parse} of all) {
      for (const [name, needs] of await stringFlags(Command)) {
        for (const empty of ['', ' ', '\t \n']) {
          await assertParseRefusal(() => parse([...needs, `--${name}`, empty], name), new RegExp(`^--${name} is empty \\(an unset shell variable\\?\\): pass a value, or leave the flag out\\.$`))
        }
        await assertParseRefusal(() => parse([...needs, `--${name}=`], name), new RegExp(`^--${name} is empty`))
        // The same flag with a value parses: the empty value is what was refused.
        const value = {app: 'my-app', confirm: 'my-app', notify: 'slack'}[name] ?? 'x'
        await parse([...needs, `--${name}`, value], name).catch((error: unknown) => assert.fail(`${id} --${name} x: ${error}`))
        checked++
      }
    }
    // app, remote, confirm, verify, keys-from-db, tables, prefix, dir, database-url... as the commands declare them today.
    assert.ok(checked >= 40, `${checked} string flags checked`)
  })

  it('a flag with fixed options refuses an empty value too (oclif\'s own check)', async () => {
    let checked = 0
    for (const {Command, parse} of await commands()) {
      for (const [name] of Object.entries<any>(Command.flags).filter(([, flag]) => flag.options)) {
        await assert.rejects(() => parse([`--${name}`, '']), /Expected --\S+ to be one of/)
        checked++
      }
    }
    assert.ok(checked >= 1, 'at least --prefer')
  })

  it('refuse an empty or blank argument, naming it', async () => {
    let checked = 0
    for (const {Command, parseArgs} of await commands()) {
      for (const name of Object.keys(Command.args ?? {})) {
        for (const empty of ['', '  ']) await assertParseRefusal(() => parseArgs([empty]), new RegExp(`^The ${name.toUpperCase()} argument is empty \\(an unset shell variable\\?\\): pass a value, or leave it out\\.$`))
        await parseArgs(['v50'])
        checked++
      }
    }
    assert.equal(checked, 5, 'safe-rollback RELEASE, db:recover and migrate:down DATABASE, recovery:log and recovery:resume RUN')
  })

  it('leave an empty environment variable alone: it is no value at all', async () => {
    const migrateCheck = (await commands()).find(c => c.id === 'migrate:check')!
    process.env.MIGRATE_CHECK_DATABASE_URL = ''
    try {
      const {flags} = await migrateCheck.parse([])
      assert.equal(flags['database-url'], undefined)
    } finally {
      delete process.env.MIGRATE_CHECK_DATABASE_URL
    }
  })
})

describe('input: names on the terminal', () => {
  const evil = 'users\u001b[2J\u001b[H\nv50 ✓ all good\u0007\r\u009b31m'

  it('printable escapes every control character, C1 included, and leaves the rest as it was', () => {
    assert.equal(printable(evil), 'users\\u001b[2J\\u001b[H\\nv50 ✓ all good\\u0007\\r\\u009b31m')
    assert.equal(printable('a\tb\u007f'), 'a\\tb\\u007f')
    assert.equal(printable('café "x" 表'), 'café "x" 表')
  })

  it('forTerminal keeps line breaks, tabs and (only when colour is on) colour, and escapes every other control', () => {
    const text = `Steps:\n\t1. \u001b[32m✓\u001b[39m ${evil}\r\n`
    assert.equal(forTerminal(text, false), 'Steps:\n\t1. \\u001b[32m✓\\u001b[39m users\\u001b[2J\\u001b[H\nv50 ✓ all good\\u0007\\r\\u009b31m\r\n')
    assert.equal(forTerminal(text, true), 'Steps:\n\t1. \u001b[32m✓\u001b[39m users\\u001b[2J\\u001b[H\nv50 ✓ all good\\u0007\\r\\u009b31m\r\n')
    assert.equal(forTerminal('\u001b]0;pwned\u0007\u001b[38;5;104mapp\u001b[0m', true), '\\u001b]0;pwned\\u0007\u001b[38;5;104mapp\u001b[0m')
  })

  it('step lists, step lines and check lines are one line each, whatever the names in them', () => {
    const step = {id: 's', title: `Restore into ${evil}`, apply: async () => {}, undo: () => ({title: `Drop ${evil}`, command: `heroku x ${evil}`})}
    const lines = [...stepList([step as any]), stepLine('failed', step.title, `failed: ${evil}`), ...checkLines([{name: evil, outcome: 'failed', detail: evil, more: [evil]}])]
    assert.equal(lines.length, 4)
    for (const line of lines) {
      assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/, line)
      assert.ok(line.includes('users\\u001b[2J\\u001b[H\\nv50 ✓ all good'), line)
    }
  })
})

describe('input: passwords on the command line', () => {
  it('finds a password in a URL, also as ?password=', () => {
    assert.ok(hasPassword('postgres://u:secret@host:5432/db'))
    assert.ok(hasPassword('postgresql://u@host/db?sslmode=disable&password=secret'))
    assert.ok(!hasPassword('postgres://u@host:5432/db'))
    assert.ok(!hasPassword('postgres://host/db'))
    assert.ok(hasPassword('not a url ://u:secret@host'))
  })

  it('refuses a flag whose value on the command line has a password, in either form', () => {
    const message = /^--shadow-database-url has a password: it would show in `ps` and in DEBUG output; set SHADOW_DATABASE_URL instead\.$/
    assertRefusal(() => assertNoPasswordInArgv(['--app', 'x', '--shadow-database-url', 'postgres://u:p@h/d'], '--shadow-database-url', 'SHADOW_DATABASE_URL'), message)
    assertRefusal(() => assertNoPasswordInArgv(['--shadow-database-url=postgres://u:p@h/d'], '--shadow-database-url', 'SHADOW_DATABASE_URL'), message)
    assertNoPasswordInArgv(['--shadow-database-url', 'postgres://u@localhost/shadow'], '--shadow-database-url', 'SHADOW_DATABASE_URL')
    assertNoPasswordInArgv(['--app', 'postgres://u:p@h/d'], '--shadow-database-url', 'SHADOW_DATABASE_URL')
    assertNoPasswordInArgv([], '--shadow-database-url', 'SHADOW_DATABASE_URL')
  })
})
