import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

// Prisma projects for migrate:check: three migrations whose downs are right, then one migration that
// shows one kind of wrong down. A factory, so that each test states only what it is about.

export interface FixtureMigration {
  name: string
  sql: string
  // undefined: no down.sql at all.
  down?: string
}

export const BASE: FixtureMigration[] = [
  {
    name: '20260101000000_init',
    sql: 'CREATE TABLE "User" (\n  "id" SERIAL NOT NULL,\n  "email" TEXT NOT NULL,\n  "name" VARCHAR(50),\n  CONSTRAINT "User_pkey" PRIMARY KEY ("id")\n);\nCREATE UNIQUE INDEX "User_email_key" ON "User"("email");\n',
    down: 'DROP TABLE "User";\n',
  },
  {
    name: '20260201000000_add_posts',
    sql: 'CREATE TABLE "Post" (\n  "id" SERIAL NOT NULL,\n  "title" TEXT NOT NULL,\n  "summary" TEXT NOT NULL,\n  "authorId" INTEGER NOT NULL,\n  CONSTRAINT "Post_pkey" PRIMARY KEY ("id")\n);\n'
      + 'ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;\n',
    down: 'ALTER TABLE "Post" DROP CONSTRAINT "Post_authorId_fkey";\nDROP TABLE "Post";\n',
  },
  {
    name: '20260301000000_add_role',
    sql: 'CREATE TYPE "Role" AS ENUM (\'USER\', \'ADMIN\');\nALTER TABLE "User" ADD COLUMN "role" "Role" NOT NULL DEFAULT \'USER\';\n',
    down: 'ALTER TABLE "User" DROP COLUMN "role";\nDROP TYPE "Role";\n',
  },
]

// The migration after the base, by the kind of down it has.
export const VARIANTS = {
  correct: {
    name: '20260401000000_add_user_bio',
    sql: 'ALTER TABLE "User" ADD COLUMN "bio" TEXT;\nCREATE INDEX "User_bio_idx" ON "User"("bio");\n',
    down: 'DROP INDEX "User_bio_idx";\nALTER TABLE "User" DROP COLUMN "bio";\n',
  },
  forgetsIndex: {
    name: '20260401000000_unique_post_title',
    sql: 'ALTER TABLE "Post" ADD COLUMN "slug" TEXT;\nCREATE UNIQUE INDEX "Post_title_key" ON "Post"("title");\n',
    down: 'ALTER TABLE "Post" DROP COLUMN "slug";\n',
  },
  keepsEnumValue: {
    name: '20260401000000_add_owner_role',
    sql: 'ALTER TYPE "Role" ADD VALUE \'OWNER\';\n',
    down: '-- PostgreSQL cannot drop an enum value\nSELECT 1;\n',
  },
  keepsConstraint: {
    name: '20260401000000_add_post_views',
    sql: 'ALTER TABLE "Post" ADD COLUMN "views" INTEGER NOT NULL DEFAULT 0;\nALTER TABLE "Post" ADD CONSTRAINT "Post_title_check" CHECK (char_length("title") > 0);\n',
    down: 'ALTER TABLE "Post" DROP COLUMN "views";\n',
  },
  // Works on an empty table only: the column comes back NOT NULL with no value for the existing rows.
  emptyTablesOnly: {
    name: '20260401000000_drop_post_summary',
    sql: 'ALTER TABLE "Post" DROP COLUMN "summary";\n',
    down: 'ALTER TABLE "Post" ADD COLUMN "summary" TEXT NOT NULL;\n',
  },
  missingDown: {
    name: '20260401000000_add_user_age',
    sql: 'ALTER TABLE "User" ADD COLUMN "age" INTEGER;\n',
    down: undefined,
  },
  writesBook: {
    name: '20260401000000_add_post_draft',
    sql: 'ALTER TABLE "Post" ADD COLUMN "draft" BOOLEAN NOT NULL DEFAULT true;\n',
    down: 'ALTER TABLE "Post" DROP COLUMN "draft";\nDELETE FROM "_prisma_migrations" WHERE "migration_name" = \'20260401000000_add_post_draft\';\n',
  },
  // A rename: Prisma's diff sees a column dropped and another added, so a generated down loses the values.
  renamesColumn: {
    name: '20260401000000_rename_user_name',
    sql: 'ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";\n',
    down: 'ALTER TABLE "User" RENAME COLUMN "fullName" TO "name";\n',
  },
  // Right schema, but migrate:down runs every down in one transaction, where CONCURRENTLY cannot run.
  concurrentDown: {
    name: '20260401000000_index_user_name',
    sql: 'CREATE INDEX "User_name_idx" ON "User"("name");\n',
    down: 'DROP INDEX CONCURRENTLY "User_name_idx";\n',
  },
} satisfies Record<string, FixtureMigration>

export type Variant = keyof typeof VARIANTS

const made: string[] = []

// A project folder with prisma/migrations holding `migrations`; removed by removeCheckProjects().
export function checkProject(migrations: FixtureMigration[]): string {
  const project = mkdtempSync(join(tmpdir(), 'migrate-check-'))
  made.push(project)
  const dir = join(project, 'prisma', 'migrations')
  mkdirSync(dir, {recursive: true})
  writeFileSync(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n')
  for (const migration of migrations) {
    mkdirSync(join(dir, migration.name))
    writeFileSync(join(dir, migration.name, 'migration.sql'), migration.sql)
    if (migration.down !== undefined) writeFileSync(join(dir, migration.name, 'down.sql'), migration.down)
  }
  return project
}

export const variantProject = (variant: Variant) => checkProject([...BASE, VARIANTS[variant]])

// The migrations as `prisma migrate dev` leaves them: no down.sql at all.
export const withoutDowns = (migrations: FixtureMigration[]): FixtureMigration[] => migrations.map(m => ({...m, down: undefined}))

// Several variants after the base, one day apart, so that one project holds each kind.
export const dated = (variants: FixtureMigration[]): FixtureMigration[] =>
  variants.map((m, i) => ({...m, name: m.name.replace('20260401', `202604${String(i + 1).padStart(2, '0')}`)}))

export function removeCheckProjects() {
  for (const dir of made.splice(0)) rmSync(dir, {recursive: true, force: true})
}
