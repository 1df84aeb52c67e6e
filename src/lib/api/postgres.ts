import {cliUtils} from '../cli-modules.js'
import {poll} from '../poll.js'
import {Api, path, SDK_HEADERS} from './client.js'
import type {Addon, Transfer} from './types.js'

export type {Transfer} from './types.js'

export interface PostgresAddon extends Pick<Addon, 'id' | 'name' | 'plan'> {
  app: {name: string}
}

// A Heroku Postgres database attached to the app, with every name it is attached under there.
export interface Database {
  addon: PostgresAddon
  attachmentNames: string[]
}

// Heroku names transfers by kind and number: a scheduled backup a101, a manual one b102, a restore r103.
export function transferName(transfer: Transfer): string {
  const prefix = transfer.to_type === 'pg_restore' ? 'r'
    : transfer.from_type === 'pg_dump' && transfer.to_type === 'gof3r' ? (transfer.schedule ? 'a' : 'b') : 'c'
  return `${prefix}${String(transfer.num).padStart(3, '0')}`
}

export const isBackup = (t: Transfer) => t.from_type === 'pg_dump' && t.to_type === 'gof3r'
export const isRestore = (t: Transfer) => t.to_type === 'pg_restore'

export async function postgresDatabases(api: Api, app: string): Promise<Database[]> {
  const [attachments, {isPostgresAddon}] = await Promise.all([
    api.get<{name: string, addon: PostgresAddon}[]>(path`/apps/${app}/addon-attachments`, {
      headers: {...SDK_HEADERS, 'Accept-Inclusion': 'addon:plan,config_vars'},
    }),
    cliUtils(),
  ])
  const byAddon = new Map<string, Database>()
  for (const attachment of attachments.filter(a => a.addon?.plan && isPostgresAddon(a.addon as any))) {
    const entry = byAddon.get(attachment.addon.id) ?? {addon: attachment.addon, attachmentNames: []}
    entry.attachmentNames.push(attachment.name)
    byAddon.set(attachment.addon.id, entry)
  }
  return [...byAddon.values()]
}

// Transfers are listed under the add-on's billing app, which is not always the app at hand.
export const listTransfers = (api: Api, billingApp: string) => api.get<Transfer[]>(path`/client/v11/apps/${billingApp}/transfers`, {data: true})

export const getTransfer = (api: Api, billingApp: string, id: string | number) =>
  api.get<Transfer>(path`/client/v11/apps/${billingApp}/transfers/${id}`, {data: true})

export const startBackup = (api: Api, addonId: string) => api.post<Transfer>(path`/client/v11/databases/${addonId}/backups`, {data: true})

export const startRestore = (api: Api, addonId: string, backupUrl: string) =>
  api.post<Transfer>(path`/client/v11/databases/${addonId}/restores`, {data: true, body: {backup_url: backupUrl}})

// Waits for a backup or restore to finish, reporting bytes processed as it goes.
export function waitForTransfer(api: Api, billingApp: string, transfer: Transfer, onProgress?: (t: Transfer) => void, timeoutMs = 60 * 60_000): Promise<Transfer> {
  return poll(async () => {
    const current = await getTransfer(api, billingApp, transfer.uuid)
    onProgress?.(current)
    return current.finished_at ? current : undefined
  }, {timeoutMs, description: `transfer ${transferName(transfer)}`, signal: api.settings.signal})
}

export interface DatabaseInfo {
  info: {name: string, values: string[]}[]
  following?: string | null
}

export const databaseInfo = (api: Api, addonId: string) => api.get<DatabaseInfo>(path`/client/v11/databases/${addonId}`, {data: true})

export const waitStatus = (api: Api, addonId: string) =>
  api.get<{'waiting?': boolean, 'error?'?: boolean, message: string}>(path`/client/v11/databases/${addonId}/wait_status`, {data: true})
