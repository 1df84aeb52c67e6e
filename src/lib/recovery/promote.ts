import type {Addon} from '../api/addons.js'
import {attach, listAttachments} from '../api/addons.js'
import {formatBytes} from '../bytes.js'
import {messageOf} from '../errors.js'
import {baseSchemaFor, dropBaseSql, type Recorded} from '../reconcile/base.js'
import type {SequenceMove} from '../reconcile/sequences.js'
import type {BuildersOf} from '../runner/plan.js'
import type {Ref} from '../runner/step.js'
import {aliasOf, assertPromotable, watchReleasePhase} from './point-in-time.js'

// A point-in-time recovery's switch as step kinds: what prepares the new database before the promote
// (the base of db:reconcile, the sequence fence), then `heroku pg:promote`: the database attached as
// DATABASE keeps a colour name, the new one takes DATABASE, the pooler follows, and a release phase runs
// for the attachment change. `created` is the new database, the result of the step that made it.

declare module '../runner/plan.js' {
  interface StepKinds {
    'record-reconcile-base': {app: string, created: Ref<Addon>, old: {id: string, name: string}, recoveryPoint: string}
    // `old`: the database recovered, by the attachment name it is reached under before the promote.
    'sequence-fence': {app: string, old: {attachment: string, name: string}, created: Ref<Addon>, recoveryPoint: string}
    // Gives the database now attached `as` (named `old`) a colour name of its own.
    'keep-alias': {app: string, old: string, as: string}
    'promote-database': {app: string, created: Ref<Addon>, old: string, as: string}
    'attach-pooler': {app: string, created: Ref<Addon>}
    'await-promote-release': {app: string, as: string}
  }
}

export interface BaseRecorded {
  // The new database's add-on name.
  database: string
  // Undefined when it could not be recorded (db:reconcile then compares two-way), with the reason.
  recorded?: Partial<Recorded> & {schema: string}
  reason?: string
}

// A failure of PostgreSQL itself (an SQLSTATE), not of the connection: the recovery goes on without a base.
const isDatabaseError = (error: unknown) => /^[0-9A-Z]{5}$/.test((error as {code?: string})?.code ?? '')

const connections = () => import('../postgres/connect.js')

export const promoteSteps: BuildersOf<'record-reconcile-base' | 'sequence-fence' | 'keep-alias' | 'promote-database' | 'attach-pooler' | 'await-promote-release'> = {
  // The base of a three-way db:reconcile (see reconcile/base.ts), before maintenance mode and the promote:
  // nothing writes to the new database yet, so it is exactly the old one as of the recovery point, and the
  // app, still on the old database, is not held up. Failing to record it does not stop the recovery.
  'record-reconcile-base': ({app, created, old, recoveryPoint}) => ({
    title: `Record in the new database, before anything writes to it, the base db:reconcile compares against: per table, each row's key and a short hash per column (the data as of ${recoveryPoint})`,
    async apply(context): Promise<BaseRecorded> {
      const [{databaseIn, withInterruptibleConnection}, {recordBase}] = await Promise.all([connections(), import('../reconcile/base.js')])
      const addon = context.result(created)
      const database = await databaseIn(context, app, addon.name)
      try {
        // Ctrl-C ends the connection, which rolls the whole base back: nothing half-recorded is left.
        const label = {run: context.run, recoveryPoint, old, database: {id: addon.id, name: addon.name}}
        return {database: addon.name, recorded: await withInterruptibleConnection(database, context.writeSignal, ({client}) => recordBase(client, label, database.schema))}
      } catch (error) {
        if (!isDatabaseError(error)) throw error
        return {database: addon.name, reason: messageOf(error)}
      }
    },
    async observe(context) {
      const [{databaseIn, withConnection}, {hasBase}] = await Promise.all([connections(), import('../reconcile/base.js')])
      const {name} = context.result(created)
      return await withConnection(await databaseIn(context, app, name), ({client}) => hasBase(client, context.run))
        ? {applied: true, result: {database: name, recorded: {schema: baseSchemaFor(context.run)}}}
        : {applied: false}
    },
    undo: (result?: BaseRecorded) => result?.recorded
      ? {title: 'Drop the base of db:reconcile', command: `heroku pg:psql ${result.database} --app ${app} -c '${dropBaseSql(result.recorded.schema)}'`, automatic: false}
      : undefined,
    done: ({recorded, reason}: BaseRecorded) => !recorded
      ? `not recorded (${reason}): db:reconcile will compare two-way`
      : recorded.tables === undefined
        ? `recorded (schema ${recorded.schema})`
        : `${recorded.tables} table${recorded.tables === 1 ? '' : 's'}, ${recorded.rows} row${recorded.rows === 1 ? '' : 's'}, ${formatBytes(recorded.bytes ?? 0)} in ${recorded.durationMs} ms (schema ${recorded.schema})`,
  }),

  // The sequence fence, before the promote: the old database kept handing out ids after the recovery
  // point, and rows written then (which `db:reconcile` carries over) must never meet a new row's id.
  'sequence-fence': ({app, old, created, recoveryPoint}) => ({
    title: `Advance every sequence of the new database to at least ${old.name}'s value, so that no new row takes an id written after ${recoveryPoint}`,
    async apply(context): Promise<SequenceMove[]> {
      const [{databaseIn, withConnection}, {fenceSequences}] = await Promise.all([connections(), import('../reconcile/sequences.js')])
      const [from, recovered] = await Promise.all([databaseIn(context, app, old.attachment), databaseIn(context, app, context.result(created).name)])
      return withConnection(from, ({client: oldClient}) => withConnection(recovered, ({client: to}) => fenceSequences(oldClient, to, recovered.schema)))
    },
    done: (moves: SequenceMove[]) => moves.length > 0 ? `${moves.length} sequence${moves.length > 1 ? 's' : ''} advanced: ${moves.map(m => `${m.sequence} to ${m.to}`).join(', ')}` : 'no sequence was behind',
  }),

  'keep-alias': ({app, old, as}) => ({
    title: `Give ${old} a colour name, so that it stays reachable after the promote`,
    async apply({api}) {
      const existing = aliasOf(await listAttachments(api, app), as)
      return existing?.name ?? (await attach(api, app, old, {namespace: null})).name
    },
    async observe({api}) {
      const alias = aliasOf(await listAttachments(api, app), as)
      return alias ? {applied: true, result: alias.name} : {applied: false}
    },
    done: (alias: string) => `${old} is also ${alias}`,
  }),

  'promote-database': ({app, created, old, as}) => ({
    title: `Promote the new database to ${as}_URL, as \`heroku pg:promote\` does`,
    async apply(context) {
      const addon = context.result(created)
      await assertPromotable(context.api, addon)
      await attach(context.api, app, addon.name, {name: as, namespace: null})
      return addon.name
    },
    async observe(context) {
      const addon = context.result(created)
      const attached = (await listAttachments(context.api, app)).find(a => a.name === as)
      return attached?.addon.id === addon.id ? {applied: true, result: addon.name} : {applied: false}
    },
    undo: () => ({title: `Promote ${old} back`, command: `heroku pg:promote ${old} --app ${app}`, automatic: false}),
    done: (name: string) => `${as}_URL now points to ${name}`,
  }),

  'attach-pooler': ({app, created}) => ({
    title: 'Re-attach the connection pooler (DATABASE_CONNECTION_POOL) to the new database',
    apply: context => attach(context.api, app, context.result(created).name, {name: 'DATABASE_CONNECTION_POOL', namespace: 'connection-pooling:default'}),
    async observe(context) {
      const pooler = (await listAttachments(context.api, app)).find(a => a.name === 'DATABASE_CONNECTION_POOL')
      return pooler?.addon.id === context.result(created).id ? {applied: true, result: pooler} : {applied: false}
    },
  }),

  'await-promote-release': ({app, as}) => ({
    title: 'Wait for the release phase of the attachment change',
    apply: ({api, timeoutMs}) => watchReleasePhase(api, app, as, Math.min(timeoutMs, 15 * 60_000)),
    done: (phase: string) => phase,
  }),
}
