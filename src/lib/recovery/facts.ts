import {listAttachments} from '../api/addons.js'
import {getApp, listFormation, Process} from '../api/apps.js'
import type {Heroku} from '../api/heroku.js'
import {databaseInfo, listTransfers, Transfer} from '../api/postgres.js'
import {Refused, statusOf} from '../errors.js'

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
  database: RecoveryDatabase
  transfers: Transfer[]
  // The earliest point in time the database can roll back to; null when the plan has no rollback.
  rollbackEarliest: Date | null
  formation: Process[]
  maintenance: boolean
  hasPooler: boolean
  now: number
}

async function resolveDatabase(heroku: Heroku, app: string, database: string) {
  const {utils} = await import('@heroku/heroku-cli-util')
  try {
    return await new utils.pg.DatabaseResolver(heroku).getAttachment(app, database)
  } catch (error) {
    if (statusOf(error) === 404 && /app/i.test(String((error as Error).message))) throw new Refused(`App ${app} does not exist or you do not have access to it.`)
    throw new Refused(String((error as Error).message).split('\n')[0])
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

export async function gatherFacts(heroku: Heroku, app: string, databaseArg: string): Promise<RecoveryFacts> {
  const [appInfo, attachment] = await Promise.all([getApp(heroku, app), resolveDatabase(heroku, app, databaseArg)])
  const {utils} = await import('@heroku/heroku-cli-util')
  const addon = attachment.addon as {id: string, name: string, plan: {name: string}, app: {name: string}}
  const advanced = utils.pg.isAdvancedDatabase(addon as any)
  const [attachments, transfers, info, formation] = await Promise.all([
    listAttachments(heroku, app),
    listTransfers(heroku, addon.app.name),
    advanced ? undefined : databaseInfo(heroku, addon.id),
    listFormation(heroku, app),
  ])
  const mine = attachments.filter(a => a.addon.id === addon.id)
  return {
    app,
    database: {
      id: addon.id, name: addon.name, plan: addon.plan.name, billingApp: addon.app.name,
      attachment: attachment.name, attachmentNames: mine.map(a => a.name), advanced,
      essential: utils.pg.isEssentialDatabase(addon as any) || utils.pg.isLegacyEssentialDatabase(addon as any),
    },
    transfers,
    rollbackEarliest: info ? parseRollbackRow(info.info) : null,
    formation,
    maintenance: appInfo.maintenance,
    hasPooler: mine.some(a => a.namespace === 'connection-pooling:default'),
    now: Date.now(),
  }
}
