import {Addon, attach, createAddon, destroyAddon, listAttachments} from '../api/addons.js'
import type {Api} from '../api/client.js'
import {databaseInfo, isRestore, listTransfers, startRestore, Transfer, transferName, waitForTransfer} from '../api/postgres.js'
import {formatBytes} from '../bytes.js'
import {CaptureTarget, captureStep} from '../backups/gate.js'
import {maintenanceOff, maintenanceOn, scaleBack, scaleDown} from '../guards.js'
import {transferAction} from '../backups/actions.js'
import {destroy as destroyKind} from '../platform/actions.js'
import type {Step, StepContext} from '../runner/step.js'
import type {RecoveryFacts} from './gather.js'
import type {RecoveryPlan} from './plan.js'
import {aliasOf, assertPromotable, createRollbackDatabase, findCreated, waitUntilAvailable, watchReleasePhase} from './point-in-time.js'
import {runVerification} from './verify.js'
import {resolveAppDatabase, withConnection, withInterruptibleConnection} from '../postgres/connect.js'
import {messageOf} from '../errors.js'
import {BaseLabel, baseSchemaFor, dropBaseSql, hasBase, Recorded, recordBase} from '../reconcile/base.js'
import {fenceSequences, SequenceMove} from '../reconcile/sequences.js'
import {PutBack, putBackMissingRows} from '../reconcile/surgical.js'

// `db:recover` as steps: a restore in place, a point-in-time rollback into a new database that is
// promoted, or a drill into a scratch database. Every write is a step the runner can take back or
// report exactly; maintenance and quiet workers are put back whatever happens.

const newestNum = (facts: RecoveryFacts) => Math.max(0, ...facts.transfers.map(t => t.num))

// A database of the same plan and billing app as the one recovered: itself, or the new one.
const captureTarget = (facts: RecoveryFacts, addon: {id: string, name: string}, names: string[], label: string): CaptureTarget => ({
  database: {addon: {...addon, plan: {name: facts.database.plan}, app: {name: facts.database.billingApp}}, attachmentNames: names},
  label, newestNum: newestNum(facts),
})

const where = (facts: RecoveryFacts) => `${facts.database.attachment} (${facts.database.name})`

export const restoreCommand = (facts: RecoveryFacts, backup: string) =>
  `heroku pg:backups:restore ${backup} ${facts.database.attachment}_URL --app ${facts.app} --confirm ${facts.app}`

function backupUrl(facts: RecoveryFacts, plan: RecoveryPlan): string {
  const backup = facts.transfers.find(t => t.uuid === plan.backup?.uuid)
  if (!backup?.to_url) throw new Error(`Backup ${plan.backup?.name} has no URL to restore from`)
  return backup.to_url
}

// A restore into a database started by this run: numbered after every transfer known before it, and
// named, as Heroku names a restore's target, by the database or one of its attachments.
async function findRestore(api: Api, facts: RecoveryFacts, names: string[]): Promise<Transfer | undefined> {
  return (await listTransfers(api, facts.database.billingApp)).find(t => isRestore(t) && t.num > newestNum(facts) && names.includes(t.to_name))
}

const namesOf = (addon: Addon) => [addon.name, ...(addon.config_vars ?? []).map(v => v.replace(/_URL$/, ''))]

interface Restored {
  transfer: Transfer
  safetyBackup?: string
}

// Restores the backup into the app's database. Once started it runs at Heroku whatever this process
// does, so the runner waits for it before anything is put back.
function restoreInPlace(facts: RecoveryFacts, plan: RecoveryPlan): Step<Restored> {
  const backup = plan.backup!.name
  const safety = (context: StepContext) => plan.safetyBackup ? transferName(context.result<Transfer>('safety-backup')) : undefined
  return {
    id: 'restore',
    title: `Restore ${backup} into ${where(facts)}, replacing all of its data`,
    apply: async context => ({transfer: await startRestore(context.api, facts.database.id, backupUrl(facts, plan)), safetyBackup: safety(context)}),
    async observe(context) {
      const transfer = await findRestore(context.api, facts, [facts.database.name, ...facts.database.attachmentNames])
      return transfer ? {applied: true, result: {transfer, safetyBackup: safety(context)}} : {applied: false}
    },
    keepsRunning: ({transfer, safetyBackup}) => ({
      running: `Restore ${transferName(transfer)} of ${backup} into ${facts.database.attachment}`,
      settle: transferAction(facts.database.billingApp, transfer),
      meanwhile: `when it ends, ${facts.database.attachment} holds ${backup}'s data; until then the app must not write to it, so maintenance mode and quiet workers stay as they are.${safetyBackup ? ` Safety backup ${safetyBackup} holds the data from before.` : ''}`,
    }),
    undo: result => result?.safetyBackup
      ? {title: `Restore safety backup ${result.safetyBackup}`, command: restoreCommand(facts, result.safetyBackup), automatic: false}
      : {title: 'Restore the data from before', command: plan.safetyBackup ? restoreCommand(facts, 'SAFETY-BACKUP') : 'no safety backup was taken (--no-safety-backup)', automatic: false},
    done: ({transfer}) => `${transferName(transfer)} succeeded`,
  }
}

function verifyStep(facts: RecoveryFacts, plan: RecoveryPlan, database: (context: StepContext) => string): Step<string> {
  return {
    id: 'verify',
    title: 'Run --verify on the recovered database; stop if it returns false, nothing, or fails',
    async apply(context) {
      const name = database(context)
      const verification = await runVerification(context.api, facts.app, name, plan.verify!)
      if (!verification.passed) throw new Error(`--verify failed on ${name}: ${verification.detail}`)
      return verification.detail
    },
    done: detail => `passed: ${detail}`,
  }
}

// Creates the rollback (or scratch) database and waits until it is available. A lost answer is
// settled by reading the app's add-ons: one of the plan that was not there before is this one.
function createDatabase(facts: RecoveryFacts, plan: RecoveryPlan, options: {id: string, title: string, scratch: boolean}): Step<Addon> {
  const destroy = (addon?: Addon) => {
    const name = addon?.name ?? 'the new database'
    const action = addon && {kind: 'destroy-addon', app: facts.app, appId: addon.app.id, addonId: addon.id, name: addon.name} as const
    return {title: `Destroy ${name}`, command: action ? destroyKind.command(action) : `heroku addons:destroy NAME --app ${facts.app}`, action, automatic: options.scratch && !plan.keep}
  }
  return {
    id: options.id,
    title: options.title,
    apply: ({api}) => options.scratch && plan.way === 'backup'
      ? createAddon(api, facts.app, {plan: facts.database.plan})
      : createRollbackDatabase(api, facts, new Date(plan.target!.at)),
    async observe({api}) {
      const addon = await findCreated(api, facts)
      return addon ? {applied: true, result: addon} : {applied: false}
    },
    then: ({api, timeoutMs, status}, addon) => waitUntilAvailable(api, addon, timeoutMs, status),
    undo: destroy,
    done: addon => `${addon.name} is available`,
  }
}

function restoreIntoScratch(facts: RecoveryFacts, plan: RecoveryPlan): Step<Transfer> {
  const scratch = (context: StepContext) => context.result<Addon>('create-scratch')
  return {
    id: 'restore-scratch',
    title: `Restore ${plan.backup?.name} into the scratch database`,
    apply: context => startRestore(context.api, scratch(context).id, backupUrl(facts, plan)),
    async observe(context) {
      const transfer = await findRestore(context.api, facts, namesOf(scratch(context)))
      return transfer ? {applied: true, result: transfer} : {applied: false}
    },
    async then({api, status, timeoutMs}, started) {
      const name = transferName(started)
      const done = await waitForTransfer(api, facts.database.billingApp, started, t => status(`${name}: ${formatBytes(t.processed_bytes ?? 0)} processed`), timeoutMs)
      if (!done.succeeded) throw new Error(`Restore ${name} failed`)
      return done
    },
  }
}

// `heroku pg:promote`: the database now attached as DATABASE keeps a colour name, the new one takes
// DATABASE, the pooler follows, and a release phase runs for the attachment change.
function promoteSteps(facts: RecoveryFacts, plan: RecoveryPlan): Step<any>[] {
  const as = plan.promoteAs!
  const created = (context: StepContext) => context.result<Addon>('create-database')
  const steps: Step<any>[] = [{
    id: 'keep-alias',
    title: `Give ${facts.database.name} a colour name, so that it stays reachable after the promote`,
    async apply({api}) {
      const existing = aliasOf(await listAttachments(api, facts.app), as)
      return existing?.name ?? (await attach(api, facts.app, facts.database.name, {namespace: null})).name
    },
    async observe({api}) {
      const alias = aliasOf(await listAttachments(api, facts.app), as)
      return alias ? {applied: true, result: alias.name} : {applied: false}
    },
    done: alias => `${facts.database.name} is also ${alias}`,
  }, {
    id: 'promote',
    title: `Promote the new database to ${as}_URL, as \`heroku pg:promote\` does`,
    async apply(context) {
      await assertPromotable(context.api, created(context))
      await attach(context.api, facts.app, created(context).name, {name: as, namespace: null})
      return created(context).name
    },
    async observe(context) {
      const attached = (await listAttachments(context.api, facts.app)).find(a => a.name === as)
      return attached?.addon.id === created(context).id ? {applied: true, result: created(context).name} : {applied: false}
    },
    undo: () => ({title: `Promote ${facts.database.name} back`, command: `heroku pg:promote ${facts.database.name} --app ${facts.app}`, automatic: false}),
    done: name => `${as}_URL now points to ${name}`,
  }]
  if (facts.hasPooler) {
    steps.push({
      id: 'pooler',
      title: 'Re-attach the connection pooler (DATABASE_CONNECTION_POOL) to the new database',
      apply: context => attach(context.api, facts.app, created(context).name, {name: 'DATABASE_CONNECTION_POOL', namespace: 'connection-pooling:default'}),
      async observe(context) {
        const pooler = (await listAttachments(context.api, facts.app)).find(a => a.name === 'DATABASE_CONNECTION_POOL')
        return pooler?.addon.id === created(context).id ? {applied: true, result: pooler} : {applied: false}
      },
    })
  }
  if (facts.formation.some(p => p.type === 'release')) {
    steps.push({
      id: 'release-phase',
      title: 'Wait for the release phase of the attachment change',
      apply: ({api, timeoutMs}) => watchReleasePhase(api, facts.app, as, Math.min(timeoutMs, 15 * 60_000)),
      done: phase => phase,
    })
  }
  return steps
}

// The sequence fence, before the promote: the old database kept handing out ids after the recovery
// point, and rows written then (which `db:reconcile` carries over) must never meet a new row's id.
function sequenceFence(facts: RecoveryFacts, plan: RecoveryPlan): Step<SequenceMove[]> {
  const created = (context: StepContext) => context.result<Addon>('create-database')
  return {
    id: 'sequence-fence',
    title: `Advance every sequence of the new database to at least ${facts.database.name}'s value, so that no new row takes an id written after ${plan.target?.at}`,
    async apply(context) {
      const [old, recovered] = await Promise.all([
        resolveAppDatabase(context.api, facts.app, facts.database.attachment), resolveAppDatabase(context.api, facts.app, created(context).name),
      ])
      return withConnection(old, ({client: from}) => withConnection(recovered, ({client: to}) => fenceSequences(from, to, recovered.schema)))
    },
    done: moves => moves.length > 0 ? `${moves.length} sequence${moves.length > 1 ? 's' : ''} advanced: ${moves.map(m => `${m.sequence} to ${m.to}`).join(', ')}` : 'no sequence was behind',
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

// The base of a three-way db:reconcile (see reconcile/base.ts), before maintenance mode and the promote:
// nothing writes to the new database yet, so it is exactly the old one as of the recovery point, and the
// app, still on the old database, is not held up. Failing to record it does not stop the recovery.
function recordReconcileBase(facts: RecoveryFacts, plan: RecoveryPlan): Step<BaseRecorded> {
  const created = (context: StepContext) => context.result<Addon>('create-database')
  const newDatabase = (context: StepContext) => resolveAppDatabase(context.api, facts.app, created(context).name)
  return {
    id: 'record-base',
    title: `Record in the new database, before anything writes to it, the base db:reconcile compares against: per table, each row's key and a short hash per column (the data as of ${plan.target?.at})`,
    async apply(context) {
      const addon = created(context)
      const label: BaseLabel = {run: context.run, recoveryPoint: plan.target!.at, old: {id: facts.database.id, name: facts.database.name}, database: {id: addon.id, name: addon.name}}
      const database = await newDatabase(context)
      try {
        // Ctrl-C ends the connection, which rolls the whole base back: nothing half-recorded is left.
        return {database: addon.name, recorded: await withInterruptibleConnection(database, context.writeSignal, ({client}) => recordBase(client, label, database.schema))}
      } catch (error) {
        if (!isDatabaseError(error)) throw error
        return {database: addon.name, reason: messageOf(error)}
      }
    },
    async observe(context) {
      const database = await newDatabase(context)
      return await withConnection(database, ({client}) => hasBase(client, context.run))
        ? {applied: true, result: {database: created(context).name, recorded: {schema: baseSchemaFor(context.run)}}}
        : {applied: false}
    },
    undo: result => result?.recorded
      ? {title: 'Drop the base of db:reconcile', command: `heroku pg:psql ${result.database} --app ${facts.app} -c '${dropBaseSql(result.recorded.schema)}'`, automatic: false}
      : undefined,
    done: ({recorded, reason}) => !recorded
      ? `not recorded (${reason}): db:reconcile will compare two-way`
      : recorded.tables === undefined
        ? `recorded (schema ${recorded.schema})`
        : `${recorded.tables} table${recorded.tables === 1 ? '' : 's'}, ${recorded.rows} row${recorded.rows === 1 ? '' : 's'}, ${formatBytes(recorded.bytes ?? 0)} in ${recorded.durationMs} ms (schema ${recorded.schema})`,
  }
}

// --surgical: the rows the scratch copy has and the database lost, put back in one transaction.
function putBack(facts: RecoveryFacts, plan: RecoveryPlan): Step<PutBack> {
  const {tables, out} = plan.surgical!
  return {
    id: 'put-back',
    title: `Put back the rows of ${tables.join(', ')} that the scratch database has and ${where(facts)} does not, in one transaction; nothing else is touched`,
    async apply(context) {
      const [copy, database] = await Promise.all([
        resolveAppDatabase(context.api, facts.app, context.result<Addon>('create-scratch').name), resolveAppDatabase(context.api, facts.app, facts.database.attachment),
      ])
      return putBackMissingRows(copy, database, tables, out, context.writeSignal)
    },
    // The rows put back are listed in the folder; going back wholesale is the safety backup, when there is one.
    undo: () => plan.safetyBackup ? {title: 'Restore the safety backup', command: restoreCommand(facts, 'SAFETY-BACKUP'), automatic: false} : undefined,
    done: result => `${Object.values(result.changed).reduce((a, b) => a + b, 0)} rows put back (${Object.entries(result.changed).map(([t, n]) => `${t}: ${n}`).join(', ') || 'none missing'})`,
  }
}

function checkFollower(): Step<boolean> {
  return {
    id: 'follower-check',
    title: 'Check whether the new database follows another',
    apply: async context => Boolean((await databaseInfo(context.api, context.result<Addon>('create-database').id)).following),
    done: follower => follower ? 'it is a follower (read-only): `heroku pg:unfollow` makes it writable' : 'it is a leader',
  }
}

function guarded(facts: RecoveryFacts, plan: RecoveryPlan, switchSteps: Step<any>[]): Step<any>[] {
  return [
    ...(plan.maintenance ? [maintenanceOn(facts.app)] : []),
    ...(plan.workers.length > 0 ? [scaleDown(facts.app, plan.workers)] : []),
    ...switchSteps,
    ...(plan.workers.length > 0 ? [scaleBack(facts.app, plan.workers)] : []),
    ...(plan.maintenance ? [maintenanceOff(facts.app)] : []),
  ]
}

export function recoverySteps(facts: RecoveryFacts, plan: RecoveryPlan): Step<any>[] {
  const verify = (database: (context: StepContext) => string) => plan.verify ? [verifyStep(facts, plan, database)] : []
  const scratchName = (context: StepContext) => context.result<Addon>('create-scratch').name
  const destroyScratch = plan.keep ? [] : [{
    id: 'destroy-scratch', title: 'Destroy the scratch database', putsBack: 'create-scratch',
    apply: (context: StepContext) => destroyAddon(context.api, context.result<Addon>('create-scratch')),
  }]
  if (plan.surgical) {
    const target = captureTarget(facts, {id: facts.database.id, name: facts.database.name}, facts.database.attachmentNames, where(facts))
    return [
      createDatabase(facts, plan, {id: 'create-scratch', title: `Create a scratch ${facts.database.plan} database${plan.way === 'backup' ? '' : ` from ${where(facts)} as of ${plan.target?.at}`}`, scratch: true}),
      ...(plan.way === 'backup' ? [restoreIntoScratch(facts, plan)] : []),
      ...verify(scratchName),
      ...(plan.safetyBackup ? [captureStep('safety-backup', `Capture a safety backup of ${where(facts)} as it is now`, target)] : []),
      ...guarded(facts, plan, [putBack(facts, plan)]),
      ...destroyScratch,
    ]
  }
  if (plan.drill) {
    const scratch = scratchName
    return [
      createDatabase(facts, plan, {id: 'create-scratch', title: `Create a scratch ${facts.database.plan} database${plan.way === 'backup' ? '' : ` from ${where(facts)} as of ${plan.target?.at}`}`, scratch: true}),
      ...(plan.way === 'backup' ? [restoreIntoScratch(facts, plan)] : []),
      ...verify(scratch),
      ...destroyScratch,
    ]
  }
  if (plan.way === 'backup') {
    const target = captureTarget(facts, {id: facts.database.id, name: facts.database.name}, facts.database.attachmentNames, where(facts))
    const safety = plan.safetyBackup ? [captureStep('safety-backup', `Capture a safety backup of ${where(facts)} as it is now`, target)] : []
    return guarded(facts, plan, [...safety, restoreInPlace(facts, plan), ...verify(() => facts.database.attachment)])
  }
  const created = (context: StepContext) => context.result<Addon>('create-database')
  const backupOfNew = plan.safetyBackup ? [captureStep('backup-new', 'Capture a backup of the new database right away: it has no rollback window of its own yet',
    context => captureTarget(facts, created(context), [plan.promoteAs!], created(context).name))] : []
  return [
    createDatabase(facts, plan, {id: 'create-database', title: `Create a new ${facts.database.plan} database from ${where(facts)} as of ${plan.target?.at} (a point-in-time rollback)`, scratch: false}),
    ...verify(context => created(context).name),
    ...(plan.reconcileBase ? [recordReconcileBase(facts, plan)] : []),
    ...guarded(facts, plan, [sequenceFence(facts, plan), ...promoteSteps(facts, plan)]),
    checkFollower(),
    ...backupOfNew,
  ]
}
