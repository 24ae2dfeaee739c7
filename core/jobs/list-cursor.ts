/**
 * Newest-first paging of an account's queries. The sort key is `<createdAt, 15 digits>#<requestId>` (stored as the
 * DynamoDB index range key, computed in memory); a cursor is that key of the page's last item, base64url-encoded so
 * clients treat it as opaque. A cursor that does not decode to such a key is refused (null), never trusted.
 */
export function requestSortKey(createdAt: number, requestId: string): string {
  return `${String(Math.max(0, Math.trunc(createdAt))).padStart(15, "0")}#${requestId}`;
}

export function encodeCursor(sortKey: string): string {
  return Buffer.from(sortKey, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) return null;
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  return /^[0-9]{15}#[\x21-\x7e]{1,260}$/.test(text) ? text : null;
}
