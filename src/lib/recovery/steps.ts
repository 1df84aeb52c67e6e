import type {Addon} from '../api/addons.js'
import {createAddon, destroyAddon} from '../api/addons.js'
import type {Api} from '../api/client.js'
import {databaseInfo, getTransfer, isRestore, listTransfers, startRestore, Transfer, transferName, waitForTransfer} from '../api/postgres.js'
import {transferAction} from '../backups/actions.js'
import {formatBytes} from '../bytes.js'
import {destroy as destroyKind} from '../platform/actions.js'
import type {BuildersOf} from '../runner/plan.js'
import type {Ref, StepContext, Undo} from '../runner/step.js'
import type {PutBack} from '../reconcile/surgical.js'
import {registerSecrets} from '../secrets.js'
import {createRollbackDatabase, findCreated, type SourceDatabase, waitUntilAvailable} from './point-in-time.js'

// db:recover's changes to databases as step kinds: a database created (a point-in-time rollback, or an
// empty one for a scratch copy), a backup restored (in place, or into the scratch database), a check of
// the recovered data, the rows a surgical recovery puts back, the scratch database destroyed. Their data
// holds names and ids; a database's URL and a backup's URL are read when a step runs (see `backupUrl`
// and postgres/connect.ts `databaseIn`), and what an earlier step made is its result, by a typed ref.

declare module '../runner/plan.js' {
  interface StepKinds {
    // A point-in-time rollback of `source` as of `at`, or, without `at`, an empty database of its plan.
    'create-database': {app: string, source: SourceDatabase, at?: string, scratch: boolean, keep: boolean, knownAddons: string[]}
    // `into`: the scratch database an earlier step created; without it, `source` itself, in place.
    'restore-backup': {app: string, source: SourceDatabase, backup: {uuid: string, name: string}, newestNum: number, into?: Ref<Addon>, safety?: Ref<Transfer>}
    // `database`: an attachment name of the app, or the database an earlier step created.
    'verify-database': {app: string, database: string | Ref<Addon>, sql: string}
    'put-back-rows': {app: string, source: SourceDatabase, scratch: Ref<Addon>, tables: string[], out: string, safety: boolean}
    'follower-check': {app: string, created: Ref<Addon>}
    'destroy-scratch': {app: string, scratch: Ref<Addon>}
  }
}

export const where = (source: SourceDatabase) => `${source.attachment} (${source.name})`

export const restoreCommand = (app: string, attachment: string, backup: string) =>
  `heroku pg:backups:restore ${backup} ${attachment}_URL --app ${app} --confirm ${app}`

// A transfer as the run log keeps it: a backup's URL is a credential.
const recordTransfer = ({to_url: _to, from_url: _from, ...transfer}: Transfer & {from_url?: string}) => transfer

const backupUrlKey = (uuid: string) => `backup-url:${uuid}`

// What the command already read of the backup it restores (see recoveryResources in plan.ts).
export const backupResource = (transfer: Transfer): [string, string] => [backupUrlKey(transfer.uuid), transfer.to_url]

// The backup's URL, never plan data: what the command read, or the transfer read again by its uuid.
const backupUrl = (context: StepContext, billingApp: string, backup: {uuid: string, name: string}) =>
  context.resource(backupUrlKey(backup.uuid), async () => {
    const {to_url: url} = await getTransfer(context.api, billingApp, backup.uuid)
    if (!url) throw new Error(`Backup ${backup.name} has no URL to restore from`)
    registerSecrets([url])
    return url
  })

// A restore into a database started by this run: numbered after every transfer known before it, and
// named, as Heroku names a restore's target, by the database or one of its attachments.
async function findRestore(api: Api, billingApp: string, newestNum: number, names: string[]): Promise<Transfer | undefined> {
  return (await listTransfers(api, billingApp)).find(t => isRestore(t) && t.num > newestNum && names.includes(t.to_name))
}

const namesOf = (addon: Addon) => [addon.name, ...(addon.config_vars ?? []).map(v => v.replace(/_URL$/, ''))]

export interface Restored {
  transfer: Transfer
  safetyBackup?: string
}

const databaseName = (context: StepContext, database: string | Ref<Addon>) => typeof database === 'string' ? database : context.result(database).name

export const recoverySteps: BuildersOf<'create-database' | 'restore-backup' | 'verify-database' | 'put-back-rows' | 'follower-check' | 'destroy-scratch'> = {
  // Creates the rollback (or scratch) database and waits until it is available. A lost answer is
  // settled by reading the app's add-ons: one of the plan that was not there before is this one.
  'create-database': ({app, source, at, scratch, keep, knownAddons}) => ({
    title: scratch
      ? `Create a scratch ${source.plan} database${at ? ` from ${where(source)} as of ${at}` : ''}`
      : `Create a new ${source.plan} database from ${where(source)} as of ${at} (a point-in-time rollback)`,
    apply: ({api}) => at ? createRollbackDatabase(api, app, source, new Date(at)) : createAddon(api, app, {plan: source.plan}),
    async observe({api}) {
      const addon = await findCreated(api, app, source.plan, knownAddons)
      return addon ? {applied: true, result: addon} : {applied: false}
    },
    then: ({api, timeoutMs, status}, addon: Addon) => waitUntilAvailable(api, addon, timeoutMs, status),
    undo(addon?: Addon): Undo {
      const action = addon && {kind: 'destroy-addon', app, appId: addon.app.id, addonId: addon.id, name: addon.name} as const
      return {title: `Destroy ${addon?.name ?? 'the new database'}`, command: action ? destroyKind.command(action) : `heroku addons:destroy NAME --app ${app}`, action, automatic: scratch && !keep}
    },
    done: (addon: Addon) => `${addon.name} is available`,
  }),

  // Into the app's database, the restore runs at Heroku whatever this process does once started: the
  // runner waits for it before anything is put back. Into a scratch database, the step waits for it.
  'restore-backup'({app, source, backup, newestNum, into, safety}) {
    const safetyBackup = (context: StepContext) => safety ? transferName(context.result(safety)) : undefined
    if (into) {
      return {
        title: `Restore ${backup.name} into the scratch database`,
        apply: async context => startRestore(context.api, context.result(into).id, await backupUrl(context, source.billingApp, backup)),
        async observe(context) {
          const transfer = await findRestore(context.api, source.billingApp, newestNum, namesOf(context.result(into)))
          return transfer ? {applied: true, result: transfer} : {applied: false}
        },
        async then({api, status, timeoutMs}, started: Transfer) {
          const name = transferName(started)
          const done = await waitForTransfer(api, source.billingApp, started, t => status(`${name}: ${formatBytes(t.processed_bytes ?? 0)} processed`), timeoutMs)
          if (!done.succeeded) throw new Error(`Restore ${name} failed`)
          return done
        },
        record: recordTransfer,
      }
    }
    return {
      title: `Restore ${backup.name} into ${where(source)}, replacing all of its data`,
      apply: async (context): Promise<Restored> => ({transfer: await startRestore(context.api, source.id, await backupUrl(context, source.billingApp, backup)), safetyBackup: safetyBackup(context)}),
      async observe(context) {
        const transfer = await findRestore(context.api, source.billingApp, newestNum, [source.name, ...source.attachmentNames])
        return transfer ? {applied: true, result: {transfer, safetyBackup: safetyBackup(context)}} : {applied: false}
      },
      keepsRunning: ({transfer, safetyBackup}: Restored) => ({
        running: `Restore ${transferName(transfer)} of ${backup.name} into ${source.attachment}`,
        settle: transferAction(source.billingApp, transfer),
        meanwhile: `when it ends, ${source.attachment} holds ${backup.name}'s data; until then the app must not write to it, so maintenance mode and quiet workers stay as they are.${safetyBackup ? ` Safety backup ${safetyBackup} holds the data from before.` : ''}`,
      }),
      undo: (result?: Restored): Undo => result?.safetyBackup
        ? {title: `Restore safety backup ${result.safetyBackup}`, command: restoreCommand(app, source.attachment, result.safetyBackup), automatic: false}
        : {title: 'Restore the data from before', command: safety ? restoreCommand(app, source.attachment, 'SAFETY-BACKUP') : 'no safety backup was taken (--no-safety-backup)', automatic: false},
      done: ({transfer}: Restored) => `${transferName(transfer)} succeeded`,
      record: ({transfer, safetyBackup}: Restored) => ({transfer: recordTransfer(transfer), safetyBackup}),
    }
  },

  'verify-database': ({app, database, sql}) => ({
    title: 'Run --verify on the recovered database; stop if it returns false, nothing, or fails',
    async apply(context) {
      const [{runVerification}, {databaseIn}] = await Promise.all([import('./verify.js'), import('../postgres/connect.js')])
      const name = databaseName(context, database)
      const verification = await runVerification(() => databaseIn(context, app, name), sql)
      if (!verification.passed) throw new Error(`--verify failed on ${name}: ${verification.detail}`)
      return verification.detail
    },
    done: (detail: string) => `passed: ${detail}`,
  }),

  // --surgical: the rows the scratch copy has and the database lost, put back in one transaction.
  'put-back-rows': ({app, source, scratch, tables, out, safety}) => ({
    title: `Put back the rows of ${tables.join(', ')} that the scratch database has and ${where(source)} does not, in one transaction; nothing else is touched`,
    async apply(context): Promise<PutBack> {
      const [{putBackMissingRows}, {databaseIn}] = await Promise.all([import('../reconcile/surgical.js'), import('../postgres/connect.js')])
      const [copy, database] = await Promise.all([databaseIn(context, app, context.result(scratch).name), databaseIn(context, app, source.attachment)])
      return putBackMissingRows(copy, database, tables, out, context.writeSignal)
    },
    // The rows put back are listed in the folder; going back wholesale is the safety backup, when there is one.
    undo: () => safety ? {title: 'Restore the safety backup', command: restoreCommand(app, source.attachment, 'SAFETY-BACKUP'), automatic: false} : undefined,
    done: (result: PutBack) => `${Object.values(result.changed).reduce((a, b) => a + b, 0)} rows put back (${Object.entries(result.changed).map(([t, n]) => `${t}: ${n}`).join(', ') || 'none missing'})`,
  }),

  'follower-check': ({created}) => ({
    title: 'Check whether the new database follows another',
    apply: async context => Boolean((await databaseInfo(context.api, context.result(created).id)).following),
    done: (follower: boolean) => follower ? 'it is a follower (read-only): `heroku pg:unfollow` makes it writable' : 'it is a leader',
  }),

  'destroy-scratch': ({scratch}) => ({
    title: 'Destroy the scratch database',
    apply: context => destroyAddon(context.api, context.result(scratch)),
  }),
}
