import {getTransfer, Transfer, transferName, waitForTransfer} from '../api/postgres.js'
import {formatBytes} from '../bytes.js'
import type {ActionOf, KindsOf} from '../runner/actions.js'

// Work that goes on at Heroku once started (a backup, a restore): waiting for it to end.

declare module '../runner/actions.js' {
  interface ActionKinds {
    'await-transfer': {billingApp: string, uuid: string, name: string}
  }
}

export const backupKinds: KindsOf<'await-transfer'> = {
  'await-transfer': {
    title: ({name}) => `Wait for ${name} to finish`,
    command: ({billingApp, name}) => `heroku pg:backups:info ${name} --app ${billingApp}`,
    async perform(api, {billingApp, uuid, name}, {timeoutMs, status}) {
      const started = await getTransfer(api, billingApp, uuid)
      const done = await waitForTransfer(api, billingApp, started, t => status?.(`${name}: ${formatBytes(t.processed_bytes ?? 0)} processed`), timeoutMs)
      if (!done.succeeded) throw new Error(`${name.startsWith('r') ? 'Restore' : 'Backup'} ${name} failed: \`heroku pg:backups:info ${name} --app ${billingApp}\` shows its log`)
    },
    isDone: async (api, {billingApp, uuid}) => Boolean((await getTransfer(api, billingApp, uuid)).finished_at),
    // A wait changes nothing (and a database's transfers live on the app that owns it, maybe not this one).
    distrust: async () => undefined,
  },
}

export const transferAction = (billingApp: string, transfer: Transfer): ActionOf<'await-transfer'> =>
  ({kind: 'await-transfer', billingApp, uuid: transfer.uuid, name: transferName(transfer)})
