import {poll} from '../poll.js'
import {Heroku, SDK_HEADERS, dataApi} from './heroku.js'

export interface PostgresAddon {
  id: string
  name: string
  plan: {name: string}
  app: {name: string}
}

// A Heroku Postgres database attached to the app, with every name it is attached under there.
export interface Database {
  addon: PostgresAddon
  attachmentNames: string[]
}

export interface Transfer {
  uuid: string
  num: number
  from_name: string
  from_type: string
  to_name: string
  to_type: string
  to_url: string
  succeeded: boolean | null
  created_at: string
  finished_at: string | null
  processed_bytes: number
  schedule?: {uuid: string} | null
  logs?: {message: string}[]
}

// Heroku names transfers by kind and number: a scheduled backup a101, a manual one b102, a restore r103.
export function transferName(transfer: Transfer): string {
  const prefix = transfer.to_type === 'pg_restore' ? 'r'
    : transfer.from_type === 'pg_dump' && transfer.to_type === 'gof3r' ? (transfer.schedule ? 'a' : 'b') : 'c'
  return `${prefix}${String(transfer.num).padStart(3, '0')}`
}

export const isBackup = (t: Transfer) => t.from_type === 'pg_dump' && t.to_type === 'gof3r'

export async function postgresDatabases(heroku: Heroku, app: string): Promise<Database[]> {
  const [{body: attachments}, {utils}] = await Promise.all([
    heroku.get<{name: string, addon: PostgresAddon}[]>(`/apps/${app}/addon-attachments`, {
      headers: {...SDK_HEADERS, 'Accept-Inclusion': 'addon:plan,config_vars'},
    }),
    import('@heroku/heroku-cli-util'),
  ])
  const byAddon = new Map<string, Database>()
  for (const attachment of attachments.filter(a => a.addon?.plan && utils.pg.isPostgresAddon(a.addon as any))) {
    const entry = byAddon.get(attachment.addon.id) ?? {addon: attachment.addon, attachmentNames: []}
    entry.attachmentNames.push(attachment.name)
    byAddon.set(attachment.addon.id, entry)
  }
  return [...byAddon.values()]
}

// Transfers are listed under the add-on's billing app, which is not always the app at hand.
export async function listTransfers(heroku: Heroku, billingApp: string): Promise<Transfer[]> {
  const {body} = await heroku.get<Transfer[]>(`/client/v11/apps/${billingApp}/transfers`, await dataApi())
  return body
}

export async function getTransfer(heroku: Heroku, billingApp: string, id: string | number, verbose = false): Promise<Transfer> {
  const {body} = await heroku.get<Transfer>(`/client/v11/apps/${billingApp}/transfers/${id}${verbose ? '?verbose=true' : ''}`, await dataApi())
  return body
}

export async function startBackup(heroku: Heroku, addonId: string): Promise<Transfer> {
  const {body} = await heroku.post<Transfer>(`/client/v11/databases/${addonId}/backups`, await dataApi())
  return body
}

export async function startRestore(heroku: Heroku, addonId: string, backupUrl: string): Promise<Transfer> {
  const {body} = await heroku.post<Transfer>(`/client/v11/databases/${addonId}/restores`, {...await dataApi(), body: {backup_url: backupUrl}})
  return body
}

// Waits for a backup or restore to finish, reporting bytes processed as it goes.
export async function waitForTransfer(heroku: Heroku, billingApp: string, transfer: Transfer, onProgress?: (t: Transfer) => void, timeoutMs = 60 * 60_000): Promise<Transfer> {
  return poll(async () => {
    const current = await getTransfer(heroku, billingApp, transfer.uuid)
    onProgress?.(current)
    return current.finished_at ? current : undefined
  }, {timeoutMs, description: `transfer ${transferName(transfer)}`})
}

export interface DatabaseInfo {
  info: {name: string, values: string[]}[]
  following?: string | null
}

export async function databaseInfo(heroku: Heroku, addonId: string): Promise<DatabaseInfo> {
  const {body} = await heroku.get<DatabaseInfo>(`/client/v11/databases/${addonId}`, await dataApi())
  return body
}

export async function waitStatus(heroku: Heroku, addonId: string): Promise<{'waiting?': boolean, message: string}> {
  const {body} = await heroku.get<{'waiting?': boolean, message: string}>(`/client/v11/databases/${addonId}/wait_status`, await dataApi())
  return body
}
