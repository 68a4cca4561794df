import type { NextFunction, Request, Response } from 'express'

/** The signed-in user, from the session (set by app/http/app.ts). */
export interface SessionUser {
  id: number
  username: string
  role: 'member' | 'staff'
}

declare module 'express-session' {
  interface SessionData {
    /** A string: cachekit sessions index sessions by it for "log out everywhere". */
    userId?: string
    username?: string
    role?: 'member' | 'staff'
  }
}

declare global {
  namespace Express {
    interface Request {
      user?: SessionUser
    }
  }
}

/** Whether a request wants JSON (the `/api` routes) rather than a page. */
export const wantsJson = (req: Request): boolean =>
  req.path.startsWith('/api/') || req.originalUrl.startsWith('/api/')

/** Signed-in users only: 401 JSON for the API, a redirect to the login page for pages. */
export function requireUser(req: Request, res: Response, next: NextFunction): void {
  if (req.user) {
    next()
    return
  }
  if (req.originalUrl.startsWith('/api/') || req.originalUrl.startsWith('/events/')) {
    res.status(401).json({ error: 'log in first' })
    return
  }
  res.redirect(303, '/login')
}

/** Staff only (403 otherwise). */
export function requireStaff(req: Request, res: Response, next: NextFunction): void {
  if (req.user?.role === 'staff') {
    next()
    return
  }
  res.status(req.user ? 403 : 401).json({ error: 'staff only' })
}

/** A positive whole number from a form or query value, or undefined. */
export function int(value: unknown): number | undefined {
  const n = Number(value)
  return Number.isSafeInteger(n) && n > 0 ? n : undefined
}
