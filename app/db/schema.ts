import type { Db, Dialect } from './sql.js'

/** Column types that differ between the three databases; everything else is the same SQL. */
function types(dialect: Dialect) {
  switch (dialect) {
    case 'sqlite':
      return { id: 'INTEGER PRIMARY KEY', big: 'INTEGER', real: 'REAL' }
    case 'postgres':
      return { id: 'SERIAL PRIMARY KEY', big: 'BIGINT', real: 'DOUBLE PRECISION' }
    case 'mysql':
      return { id: 'INT AUTO_INCREMENT PRIMARY KEY', big: 'BIGINT', real: 'DOUBLE' }
  }
}

/** The migrations, in order. Each runs once (recorded in `schema_migrations`). */
function migrations(dialect: Dialect): string[][] {
  const t = types(dialect)
  return [
    [
      `CREATE TABLE users (id ${t.id}, username VARCHAR(64) NOT NULL UNIQUE, name VARCHAR(128) NOT NULL,
        password_hash VARCHAR(255) NOT NULL, role VARCHAR(16) NOT NULL, is_superuser INT NOT NULL DEFAULT 0)`,
      `CREATE TABLE accounts (id ${t.id}, user_id INT NOT NULL REFERENCES users(id), name VARCHAR(64) NOT NULL,
        currency VARCHAR(3) NOT NULL, balance ${t.big} NOT NULL DEFAULT 0, fence ${t.big} NOT NULL DEFAULT 0)`,
      'CREATE INDEX accounts_user ON accounts (user_id)',
      `CREATE TABLE categories (id ${t.id}, user_id INT NOT NULL REFERENCES users(id), parent_id INT NULL,
        type VARCHAR(8) NOT NULL, name VARCHAR(64) NOT NULL, depth INT NOT NULL)`,
      'CREATE INDEX categories_user_type ON categories (user_id, type)',
      `CREATE TABLE transactions (id ${t.id}, user_id INT NOT NULL, account_id INT NOT NULL,
        category_id INT NOT NULL, type VARCHAR(8) NOT NULL, amount ${t.big} NOT NULL,
        happened_on VARCHAR(10) NOT NULL, note VARCHAR(128) NOT NULL DEFAULT '')`,
      'CREATE INDEX transactions_user_date ON transactions (user_id, happened_on)',
      `CREATE TABLE transfers (id ${t.id}, user_id INT NOT NULL, from_account INT NOT NULL, to_account INT NOT NULL,
        amount ${t.big} NOT NULL, fence ${t.big} NOT NULL, created_at VARCHAR(32) NOT NULL)`,
      `CREATE TABLE merchants (id ${t.id}, name VARCHAR(64) NOT NULL, lon ${t.real} NOT NULL, lat ${t.real} NOT NULL)`,
      'CREATE TABLE app_meta (name VARCHAR(64) PRIMARY KEY, value VARCHAR(255) NOT NULL)',
    ],
  ]
}

/** Creates or upgrades the tables; returns how many migrations ran. */
export async function migrate(db: Db): Promise<number> {
  await db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY)')
  const done = new Set(
    (await db.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) =>
      Number(r.version),
    ),
  )
  let ran = 0
  for (const [index, statements] of migrations(db.dialect).entries()) {
    const version = index + 1
    if (done.has(version)) continue
    for (const statement of statements) await db.exec(statement)
    await db.run('INSERT INTO schema_migrations (version) VALUES (?)', [version])
    ran++
  }
  return ran
}
