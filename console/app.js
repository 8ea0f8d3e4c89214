/*
 * The task-pipeline console: sign in with a token, create tasks, watch them live.
 * Plain browser JavaScript, no build step. Reads config.json (apiUrl, realtimeUrl,
 * realtimeHttpHost), lists the caller's tasks over the HTTP API, and subscribes to the
 * caller's real-time channel (AppSync Events' WebSocket protocol, served locally by
 * `npm start`): status events update the list (the newest updatedAt wins, since the API and
 * the executor publish independently), output events append to a running task's text.
 * The channel rule is functions/core/realtime/channel.ts's, repeated here because this
 * page has no build step: a channel-safe sub as is, else /tasks/h/<48 hex of SHA-256>.
 */

const state = { config: null, token: "", tasks: new Map(), output: new Map(), socket: null };
const $ = (id) => document.getElementById(id);

async function channelFor(sub) {
  if (/^[A-Za-z0-9-]{1,50}$/.test(sub)) return `/tasks/${sub}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(sub));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `/tasks/h/${hex.slice(0, 48)}`;
}

function subOf(token) {
  const part = token.split(".")[1] ?? "";
  const json = atob(
    part
      .replace(/-/g, "+")
      .replace(/_/g, "/")
      .padEnd(Math.ceil(part.length / 4) * 4, "="),
  );
  const sub = JSON.parse(json).sub;
  if (typeof sub !== "string" || sub === "") throw new Error("the token has no sub");
  return sub;
}

const base64url = (text) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

async function api(method, path, body) {
  const response = await fetch(`${state.config.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${state.token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const details = (answer.error?.details ?? []).map((d) => `${d.path}: ${d.message}`).join("; ");
    throw new Error(
      `${answer.error?.message ?? answer.message ?? response.status}${details ? ` (${details})` : ""}`,
    );
  }
  return answer;
}

function setConnection(text) {
  $("connection").textContent = text;
}

function announce(text) {
  $("announcer").textContent = text;
}

/** Keeps the newer of two views of a task (events may arrive out of order across publishers). */
function remember(task) {
  const known = state.tasks.get(task.id);
  if (known && known.updatedAt > task.updatedAt) return false;
  state.tasks.set(task.id, { ...known, ...task });
  return true;
}

function render() {
  const list = $("tasks");
  const tasks = [...state.tasks.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  list.replaceChildren(...tasks.map(renderTask));
}

function renderTask(task) {
  const item = document.createElement("li");
  item.className = "task";
  item.dataset.taskId = task.id;
  item.setAttribute("aria-label", `${task.title ?? task.type}: ${task.status}`);
  const head = document.createElement("div");
  head.className = "task-head";
  const title = document.createElement("span");
  title.className = "task-title";
  title.textContent = task.title ?? task.type;
  const status = document.createElement("span");
  status.className = `status status-${task.status}`;
  status.dataset.role = "status";
  status.textContent = task.status.replace("_", " ");
  head.append(title, status);
  if (task.status === "in_progress" && task.progress) {
    const progress = document.createElement("span");
    progress.className = "progress";
    progress.dataset.role = "progress";
    progress.textContent = `${task.progress.step} ${task.progress.done}/${task.progress.total}`;
    head.append(progress);
  }
  item.append(head);
  if (task.error) {
    const error = document.createElement("p");
    error.className = "error";
    error.textContent = task.error;
    item.append(error);
  }
  const output = document.createElement("pre");
  output.className = "output";
  output.dataset.role = "output";
  output.setAttribute("aria-label", "Output");
  output.textContent = state.output.get(task.id)?.text ?? "";
  item.append(output);
  if (task.status === "pending" || task.status === "in_progress") {
    item.append(actionButton("Cancel", task, "cancel"));
  } else if (task.status === "failed" || task.status === "cancelled") {
    item.append(actionButton("Retry", task, "retry"));
  }
  return item;
}

function actionButton(label, task, action) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.textContent = label;
  button.setAttribute("aria-label", `${label} ${task.title ?? task.type}`);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      if (remember(await api("POST", `/api/tasks/${task.id}/${action}`))) render();
    } catch (error) {
      announce(`${label} failed: ${error.message}`);
      button.disabled = false;
    }
  });
  return button;
}

function onEvent(event) {
  if (event.type === "status") {
    if (
      event.task.status === "in_progress" &&
      (state.output.get(event.task.id)?.attempt ?? 0) < event.task.attempts
    ) {
      state.output.set(event.task.id, { attempt: event.task.attempts, text: "" });
    }
    if (remember(event.task)) {
      render();
      announce(`${event.task.title ?? event.task.type} is ${event.task.status.replace("_", " ")}`);
    }
  } else if (event.type === "output") {
    const known = state.output.get(event.taskId);
    const current =
      known && known.attempt === event.attempt ? known : { attempt: event.attempt, text: "" };
    current.text += event.delta;
    state.output.set(event.taskId, current);
    const pre = document.querySelector(`[data-task-id="${event.taskId}"] [data-role="output"]`);
    if (pre) pre.textContent = current.text;
  } else if (event.type === "progress") {
    // A long task's step (a summarize reads a long text in chunks): shown beside its status.
    const known = state.tasks.get(event.taskId);
    if (known) {
      known.progress = event.progress;
      render();
    }
  }
}

async function subscribe() {
  const channel = await channelFor(subOf(state.token));
  const { realtimeUrl, realtimeHttpHost } = state.config;
  const header = base64url(JSON.stringify({ Authorization: state.token, host: realtimeHttpHost }));
  const socket = new WebSocket(realtimeUrl, ["aws-appsync-event-ws", `header-${header}`]);
  state.socket = socket;
  const id = crypto.randomUUID();
  socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "connection_init" })));
  socket.addEventListener("message", (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "connection_ack") {
      socket.send(
        JSON.stringify({
          type: "subscribe",
          id,
          channel,
          authorization: { Authorization: state.token, host: realtimeHttpHost },
        }),
      );
    } else if (data.type === "subscribe_success") {
      setConnection("Live: updates appear as they happen.");
    } else if (data.type === "subscribe_error") {
      setConnection(`Live updates refused: ${data.errors?.[0]?.message ?? "unknown error"}`);
    } else if (data.type === "data" && data.id === id) {
      onEvent(JSON.parse(data.event));
    }
  });
  socket.addEventListener("close", () => {
    if (state.socket === socket)
      setConnection("Live updates disconnected: sign in again to reconnect.");
  });
}

async function signIn(token) {
  state.token = token.trim();
  subOf(state.token);
  const page = await api("GET", "/api/tasks?limit=50");
  state.tasks.clear();
  for (const task of page.items) remember(task);
  render();
  sessionStorage.setItem("token", state.token);
  for (const id of ["create", "tasks-section", "signout"]) $(id).hidden = false;
  setConnection("Signed in; connecting live updates…");
  await subscribe();
}

function signOut() {
  state.socket?.close();
  state.socket = null;
  state.token = "";
  state.tasks.clear();
  sessionStorage.removeItem("token");
  for (const id of ["create", "tasks-section", "signout"]) $(id).hidden = true;
  setConnection("Not signed in.");
}

function taskBody(form) {
  const data = new FormData(form);
  const type = data.get("type");
  const number = (name) => (data.get(name) ? Number(data.get(name)) : undefined);
  const input =
    type === "prompt"
      ? { prompt: data.get("prompt") }
      : type === "summarize"
        ? { text: data.get("text"), maxWords: number("maxWords") }
        : { topic: data.get("topic"), wordCount: number("wordCount") };
  const title = String(data.get("title") ?? "").trim();
  return { type, input, ...(title ? { title } : {}) };
}

function showFieldsFor(type) {
  for (const group of document.querySelectorAll("[data-for]"))
    group.hidden = group.dataset.for !== type;
}

async function start() {
  state.config = await (await fetch("config.json")).json();
  $("type").addEventListener("change", (e) => showFieldsFor(e.target.value));
  $("signin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await signIn($("token").value);
    } catch (error) {
      setConnection(`Sign-in failed: ${error.message}`);
    }
  });
  $("signout").addEventListener("click", signOut);
  $("create-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("create-error").textContent = "";
    try {
      const task = await api("POST", "/api/tasks", taskBody(e.target));
      if (remember(task)) render();
      announce(`Created ${task.title ?? task.type}`);
    } catch (error) {
      $("create-error").textContent = error.message;
    }
  });
  const saved = sessionStorage.getItem("token");
  if (saved) {
    $("token").value = saved;
    await signIn(saved).catch((error) => setConnection(`Sign-in failed: ${error.message}`));
  }
}

start().catch((error) => setConnection(`The console could not start: ${error.message}`));
