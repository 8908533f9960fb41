// The JSON API, as the page uses it (the tests call the same endpoints). An answer with the header
// X-Lab-Session: expired (the learner's session had ended; this request started a new one, back at the
// served model) is announced on the page's bus as "expired".
import { emit } from "./state.js";

export class ApiError extends Error {
  constructor(message, status, data) { super(message); this.status = status; this.data = data; }
}

async function answer(response) {
  if (response.headers.get("X-Lab-Session") === "expired") emit("expired");
  let data;
  try { data = await response.json(); } catch { data = { error: `HTTP ${response.status}` }; }
  if (!response.ok) throw new ApiError(data.error || `HTTP ${response.status}`, response.status, data);
  return data;
}

export async function getJSON(url) {
  return answer(await fetch(url, { headers: { Accept: "application/json" } }));
}

export async function postJSON(url, body = {}) {
  return answer(await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  }));
}
