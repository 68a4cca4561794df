/**
 * The finance pages and their JSON API. Every read goes through the cached services
 * (app/services/cached.ts); every write invalidates what it changed and pushes new balances to
 * the user's live channel. Transfers run under a lock whose fencing token the SQL update checks.
 */
import { LockTimeoutError } from 'cachekit/lock'
import { type Request, type Response, Router } from 'express'
import { isoDay } from '../../db/seed.js'
import type { Services } from '../../services/context.js'
import type { CategoryNode, CategoryType, NewTransaction, UserStats } from '../../services/finance.js'
import { int, requireStaff, requireUser, type SessionUser } from '../types.js'
import { html, layout, money, Raw } from '../views.js'

const type = (value: unknown): CategoryType => (value === 'income' ? 'income' : 'expense')
const depth = (value: unknown): number => Math.min(3, int(value) ?? 3)

export function financeRoutes(s: Services): Router {
  const router = Router()
  const f = s.finance
  router.use(['/api', '/accounts', '/transactions', '/statistics', '/transfers', '/merchants'], requireUser)

  // ---- JSON API ----
  router.get('/api/me', requireUser, (req, res) => void res.json(req.user))
  router.get('/api/accounts', async (req, res) => void res.json(await f.accounts(user(req).id)))
  router.get(
    '/api/categories',
    async (req, res) =>
      void res.json(await f.categoryTree(user(req).id, type(req.query['type']), depth(req.query['depth']))),
  )
  router.get('/api/stats', async (req, res) => void res.json(await f.stats(user(req).id)))
  router.get(
    '/api/transactions',
    async (req, res) => void res.json(await f.transactions(user(req).id, int(req.query['page']) ?? 1)),
  )
  router.post('/api/transactions', async (req, res) => {
    const created = await f.addTransaction(user(req).id, newTransaction(req.body))
    res.status(201).json(created)
  })
  router.post('/api/categories', async (req, res) => {
    const body = req.body ?? {}
    const id = await f.addCategory(
      user(req).id,
      type(body.type),
      String(body.name ?? ''),
      int(body.parentId) ?? null,
    )
    res.status(201).json({ id })
  })
  router.post('/api/users/:id/superuser', requireStaff, async (req, res) => {
    const changed = await f.setSuperuser(int(req.params['id']) ?? 0, req.body?.value === true)
    res.status(changed ? 200 : 404).json({ changed })
  })
  router.post('/api/transfers', async (req, res) => {
    const result = await transfer(s, req, res)
    if (result) res.json({ accounts: result })
  })

  // ---- Pages ----
  router.get('/', async (req, res) => {
    if (!req.user) return res.redirect(303, '/login')
    const me = req.user
    const [accounts, summary] = await Promise.all([
      f.accounts(me.id),
      // Fragment caching (seed 5): the statistics summary is rendered once per change.
      f.fragment('dashboard_summary', me.id, async () => summaryFragment(await f.stats(me.id)).value),
    ])
    const options = accounts.map((a) => html`<option value="${a.id}">${a.name} (${a.currency})</option>`)
    const body = html`<h1>Hello, ${me.username}</h1><div class="grid">
<div class="card"><h2>Accounts</h2><table id="accounts">${accounts.map(
      (a) =>
        html`<tr><td>${a.name}</td><td class="num"><span data-account="${a.id}">${money(a.balance)}</span> ${a.currency}</td></tr>`,
    )}</table><p class="note" id="live">Balances update live.</p></div>
<div class="card"><h2>Transfer</h2><form method="post" action="/transfers" id="transfer">
<p><label>From <select name="from">${options}</select></label></p><p><label>To <select name="to">${options}</select></label></p>
<p><label>Amount <input name="amount" type="number" step="0.01" min="0.01" required></label> <button>Transfer</button></p></form></div>
<div class="card">${new Raw(summary)}</div></div>`
    res.type('html').send(layout('Dashboard', me, body, LIVE_SCRIPT))
  })

  router.get('/accounts', async (req, res) => {
    const accounts = await f.accounts(user(req).id)
    const body = html`<h1>Accounts</h1><table><tr><th>Account</th><th>Currency</th><th class="num">Balance</th></tr>${accounts.map(
      (a) =>
        html`<tr><td>${a.name}</td><td>${a.currency}</td><td class="num" data-account="${a.id}">${money(a.balance)}</td></tr>`,
    )}</table>`
    res.type('html').send(layout('Accounts', user(req), body, LIVE_SCRIPT))
  })

  router.get('/transactions', async (req, res) => {
    const me = user(req)
    const page = int(req.query['page']) ?? 1
    const [rows, accounts, expense, income] = await Promise.all([
      f.transactions(me.id, page),
      f.accounts(me.id),
      f.categoryTree(me.id, 'expense', 3),
      f.categoryTree(me.id, 'income', 3),
    ])
    const leaves = [...leafOptions(expense, 'expense'), ...leafOptions(income, 'income')]
    const body = html`<h1>Transactions</h1>
<div class="card"><form method="post" action="/transactions"><select name="accountId">${accounts.map(
      (a) => html`<option value="${a.id}">${a.name} (${a.currency})</option>`,
    )}</select> <select name="category">${leaves}</select> <input name="amount" type="number" step="0.01" min="0.01" placeholder="amount" required>
<input name="date" type="date" value="${isoDay(0)}"> <input name="note" placeholder="note" maxlength="128"> <button>Add</button></form></div>
<table><tr><th>Date</th><th>Account</th><th>Category</th><th>Note</th><th class="num">Amount</th></tr>${rows.map(
      (t) => html`<tr><td>${t.date}</td><td>${t.account}</td><td>${t.category}</td><td>${t.note}</td>
<td class="num">${t.type === 'expense' ? '−' : '+'}${money(t.amount)}</td></tr>`,
    )}</table><p>${page > 1 ? html`<a href="/transactions?page=${page - 1}">← newer</a> ` : ''}<a href="/transactions?page=${page + 1}">older →</a></p>`
    res.type('html').send(layout('Transactions', me, body))
  })
  router.post('/transactions', async (req, res) => {
    const [kind, categoryId] = String(req.body?.category ?? '').split(':')
    await f.addTransaction(user(req).id, newTransaction({ ...req.body, type: kind, categoryId }, true))
    res.redirect(303, '/transactions')
  })
  router.post('/transfers', async (req, res) => {
    const result = await transfer(s, req, res)
    if (result) res.redirect(303, '/')
  })

  router.get('/statistics', async (req, res) => {
    const me = user(req)
    const [stats, expense, income] = await Promise.all([
      f.stats(me.id),
      f.categoryTree(me.id, 'expense', 3),
      f.categoryTree(me.id, 'income', 3),
    ])
    const body = html`<h1>Statistics</h1><div class="card">${summaryFragment(stats)}</div><div class="grid">
<div class="card"><h2>Expense categories</h2>${tree(expense)}</div><div class="card"><h2>Income categories</h2>${tree(income)}</div></div>`
    res.type('html').send(layout('Statistics', me, body))
  })
  return router
}

function user(req: Request): SessionUser {
  if (!req.user) throw new Error('requireUser must run first')
  return req.user
}

/** The API takes `amount` in cents; a form takes `12.34` (`decimal`). */
function newTransaction(body: Record<string, unknown>, decimal = false): NewTransaction {
  const raw = Number(body['amount'] ?? Number.NaN)
  const amount = decimal ? Math.round(raw * 100) : raw
  return {
    accountId: int(body['accountId']) ?? 0,
    categoryId: int(body['categoryId']) ?? 0,
    type: type(body['type']),
    amount,
    date: String(body['date'] || isoDay(0)),
    note: String(body['note'] ?? ''),
  }
}

/** Transfers under a per-user lock; each account row accepts only a newer fencing token. */
async function transfer(s: Services, req: Request, res: Response) {
  const me = user(req)
  const verdict = await s.limiter.consume(
    me.role === 'staff' ? 'transfer_staff' : 'transfer_member',
    String(me.id),
  )
  if (!verdict.allowed) {
    res.set('Retry-After', String(Math.ceil(verdict.retryAfterMs / 1000)))
    res.status(429).json({ error: 'too many transfers: try again later' })
    return undefined
  }
  // The API takes cents; the form takes `12.34`.
  const raw = Number(req.body?.amount ?? Number.NaN)
  const amount = req.originalUrl.startsWith('/api/') ? raw : Math.round(raw * 100)
  const from = int(req.body?.from) ?? 0
  const to = int(req.body?.to) ?? 0
  try {
    return await s.locks.withLock(
      `transfer:user:${me.id}`,
      (lock) => s.finance.transfer(me.id, from, to, amount, lock.token),
      {
        ttl: '10s',
        wait: '5s',
      },
    )
  } catch (error) {
    if (!(error instanceof LockTimeoutError)) throw error
    res.status(409).json({ error: 'another transfer is running: try again' })
    return undefined
  }
}

function summaryFragment(stats: UserStats): Raw {
  return html`<h2>Last six months</h2><table><tr><th>Month</th><th class="num">Income</th><th class="num">Expense</th><th class="num">Count</th></tr>${stats.months.map(
    (m) =>
      html`<tr><td>${m.month}</td><td class="num">${money(m.income)}</td><td class="num">${money(m.expense)}</td><td class="num">${m.count}</td></tr>`,
  )}</table><h3>Top expenses</h3><ol>${stats.topExpenses.map((t) => html`<li>${t.category}: ${money(t.total)}</li>`)}</ol>
<h3>Balances</h3><ul>${stats.balances.map((b) => html`<li>${money(b.total, b.currency)}</li>`)}</ul>`
}

function tree(nodes: CategoryNode[]): Raw {
  return html`<ul class="tree">${nodes.map((n) => html`<li>${n.name}${n.children.length ? tree(n.children) : ''}</li>`)}</ul>`
}

function leafOptions(nodes: CategoryNode[], kind: CategoryType, path = ''): Raw[] {
  return nodes.flatMap((n) =>
    n.children.length
      ? leafOptions(n.children, kind, `${path}${n.name} › `)
      : [html`<option value="${kind}:${n.id}">${kind === 'income' ? '+ ' : ''}${path}${n.name}</option>`],
  )
}

/** Live balances: an EventSource on the user's channel rewrites the balance cells it names. */
const LIVE_SCRIPT = `const es=new EventSource('/events/balances');es.onopen=()=>{document.body.dataset.live='open'};
es.onmessage=(e)=>{const u=JSON.parse(e.data);for(const a of u.accounts){for(const el of document.querySelectorAll('[data-account="'+a.id+'"]')){el.textContent=(a.balance/100).toLocaleString('en',{minimumFractionDigits:2,maximumFractionDigits:2});}}
const live=document.getElementById('live');if(live)live.textContent='Updated live ('+u.reason+') at '+new Date().toLocaleTimeString();};`
