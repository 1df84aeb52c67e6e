import {Refused, statusOf} from '../errors.js'
import {Heroku} from './heroku.js'

export interface Dyno {
  name: string
  type: string
  state: 'up' | 'starting' | 'crashed' | 'down' | 'idle' | string
  release: {version: number}
}

export interface Process {
  type: string
  quantity: number
  size: string
  command: string
}

export async function getApp(heroku: Heroku, app: string): Promise<{id: string, name: string, maintenance: boolean}> {
  try {
    const {body} = await heroku.get<{id: string, name: string, maintenance: boolean}>(`/apps/${app}`)
    return body
  } catch (error) {
    if (statusOf(error) === 404) throw new Refused(`App ${app} does not exist or you do not have access to it.`)
    throw error
  }
}

export async function setMaintenance(heroku: Heroku, app: string, on: boolean): Promise<void> {
  await heroku.patch(`/apps/${app}`, {body: {maintenance: on}})
}

export async function listDynos(heroku: Heroku, app: string): Promise<Dyno[]> {
  const {body} = await heroku.get<Dyno[]>(`/apps/${app}/dynos`)
  return body
}

export async function listFormation(heroku: Heroku, app: string): Promise<Process[]> {
  const {body} = await heroku.get<Process[]>(`/apps/${app}/formation`)
  return body
}

export async function scaleFormation(heroku: Heroku, app: string, updates: {type: string, quantity: number}[]): Promise<void> {
  await heroku.patch(`/apps/${app}/formation`, {body: {updates}})
}

export async function configVars(heroku: Heroku, app: string): Promise<Record<string, string>> {
  const {body} = await heroku.get<Record<string, string>>(`/apps/${app}/config-vars`)
  return body
}
