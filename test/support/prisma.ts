import {cpSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PRISMA_FIXTURE} from '../../src/sandbox/seeds/prisma-app.js'

const copies: string[] = []

// A fresh copy of the fixture Prisma project, so that a test can edit its files; removed after the file's tests.
export function prismaProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'prisma-app-'))
  cpSync(PRISMA_FIXTURE, dir, {recursive: true})
  copies.push(dir)
  return dir
}

export function removePrismaProjects() {
  for (const dir of copies.splice(0)) rmSync(dir, {recursive: true, force: true})
}
