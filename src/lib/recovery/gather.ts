import {listAttachments} from '../api/addons.js'
import {getApp, listFormation, noSuchApp, Process} from '../api/apps.js'
import type {Api} from '../api/client.js'
import {databaseInfo, listTransfers, Transfer} from '../api/postgres.js'
import {Refused} from '../errors.js'
import {cliUtils} from '../cli-modules.js'

// Everything the planner looks at, read before anything is written.

export interface RecoveryDatabase {
  id: string
  name: string
  plan: string
  billingApp: string
  // The name the user pointed at, and every name the database is attached under on this app.
  attachment: string
  attachmentNames: string[]
  advanced: boolean
  essential: boolean
}

export interface RecoveryFacts {
  app: string
  appId: string
  database: RecoveryDatabase
  transfers: Transfer[]
  // The earliest point in time the database can roll back to; null when the plan has no rollback.
  rollbackEarliest: Date | null
  formation: Process[]
  maintenance: boolean
  hasPooler: boolean
  // Add-ons attached to the app before anything ran: one that appears later was created by this run.
  knownAddons: string[]
  now: number
}

async function resolveDatabase(api: Api, app: string, database: string) {
  const {DatabaseResolver} = await cliUtils()
  try {
    return await new DatabaseResolver(api.resolverClient).getAttachment(app, database)
  } catch (error) {
    const message = String((error as Error).message)
    if (/couldn't find that app|app.*not found/i.test(message)) throw noSuchApp(app)
    throw new Refused(message.split('\n')[0])
  }
}

// The info row reads `earliest from 2026-11-20 19:55 UTC`.
export function parseRollbackRow(info: {name: string, values: string[]}[]): Date | null {
  const row = info.find(r => r.name === 'Rollback')?.values[0]
  const found = row && /(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d(?::\d\d)?)\s*(UTC|Z|[+-]\d\d:?\d\d)?/.exec(row)
  if (!found) return null
  const offset = !found[3] || /UTC|Z/.test(found[3]) ? 'Z' : found[3]
  return new Date(`${found[1]}T${found[2]}${offset}`)
}

export async function gatherFacts(api: Api, app: string, databaseArg: string): Promise<RecoveryFacts> {
  const [appInfo, attachment, attachments, formation, utils] = await Promise.all([
    getApp(api, app), resolveDatabase(api, app, databaseArg), listAttachments(api, app), listFormation(api, app), cliUtils(),
  ])
  const addon = attachment.addon as {id: string, name: string, plan: {name: string}, app: {name: string}}
  const advanced = utils.isAdvancedDatabase(addon as any)
  const [transfers, info] = await Promise.all([listTransfers(api, addon.app.name), advanced ? undefined : databaseInfo(api, addon.id)])
  const mine = attachments.filter(a => a.addon.id === addon.id)
  return {
    app,
    appId: appInfo.id,
    database: {
      id: addon.id, name: addon.name, plan: addon.plan.name, billingApp: addon.app.name,
      attachment: attachment.name, attachmentNames: mine.map(a => a.name), advanced,
      essential: utils.isEssentialDatabase(addon as any) || utils.isLegacyEssentialDatabase(addon as any),
    },
    transfers,
    rollbackEarliest: info ? parseRollbackRow(info.info) : null,
    formation,
    maintenance: appInfo.maintenance,
    hasPooler: mine.some(a => a.namespace === 'connection-pooling:default'),
    knownAddons: [...new Set(attachments.map(a => a.addon.id))],
    now: Date.now(),
  }
}
