// The sandbox's web chat: one Telegram-like chat per person, live over server-sent events.
//
// Everything shown comes from the server as data (text + entities, keyboards, files) and is put on the page with
// text nodes and element properties only: nothing the bot or a person wrote is ever parsed as HTML.
// A message is drawn by the renderer of its kind (MESSAGE_KINDS) and each inline button by the renderer of its
// kind (BUTTON_KINDS): an invoice and its Pay button are one entry in each (and one in sandbox/views.py). Pay is
// a test payment: the server asks the bot's pre-checkout question and, on yes, reports the payment to the bot.
"use strict";

const state = {
  bot: null,
  people: [],
  languages: [],
  clock: { base: Date.now(), at: performance.now(), offsetSeconds: 0 },
  chats: new Map(), // person id -> { messages: Map(id -> view), commands: [], loaded: bool }
  unread: new Map(),
  panes: [], // Pane objects, at most two
  focused: 0,
};

const NARROW = window.matchMedia("(max-width: 760px)");
const SAFE_SCHEMES = new Set(["http:", "https:", "mailto:"]);

// -- small helpers -----------------------------------------------------------------------------------------------
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

function person(id) {
  return state.people.find((p) => p.id === id);
}

function safeUrl(raw) {
  try {
    const url = new URL(raw);
    return SAFE_SCHEMES.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function initials(name) {
  const parts = name.split(/\s+/).filter(Boolean);
  return ((parts[0] || "?")[0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

const AVATAR_COLOURS = [
  ["#ff885e", "#ff516a"], ["#ffcd6a", "#ffa85c"], ["#82b1ff", "#665fff"], ["#a0de7e", "#54cb68"],
  ["#53edd6", "#28c9b7"], ["#72d5fd", "#2a9ef1"], ["#e0a2f3", "#d669ed"],
];

function paintAvatar(node, someone) {
  const [a1, a2] = AVATAR_COLOURS[someone.id % AVATAR_COLOURS.length];
  node.style.setProperty("--a1", a1);
  node.style.setProperty("--a2", a2);
  node.textContent = initials(someone.name);
}

function botNow() {
  return new Date(state.clock.base + (performance.now() - state.clock.at));
}

function formatIn(zone, date, options) {
  try {
    return new Intl.DateTimeFormat("en-GB", { timeZone: zone, ...options }).format(date);
  } catch {
    return new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", ...options }).format(date);
  }
}

function zoneCity(zone) {
  return zone.split("/").pop().replace(/_/g, " ");
}

// -- formatted text: text + entities (UTF-16 offsets, as JavaScript strings count) ------------------------------
const ENTITY_TAGS = {
  bold: "strong", italic: "em", underline: "u", strikethrough: "s", code: "code",
};

function entityNode(entity, text, view) {
  if (ENTITY_TAGS[entity.type]) return el(ENTITY_TAGS[entity.type]);
  switch (entity.type) {
    case "pre": {
      const pre = el("pre");
      const code = el("code");
      if (entity.language) code.dataset.language = entity.language;
      pre.append(code);
      return { outer: pre, inner: code };
    }
    case "spoiler": {
      const span = el("span", "spoiler");
      span.tabIndex = 0;
      span.title = "Spoiler: tap to show";
      span.addEventListener("click", () => span.classList.add("shown"));
      return span;
    }
    case "blockquote":
    case "expandable_blockquote":
      return el("blockquote");
    case "text_link":
    case "url": {
      const href = safeUrl(entity.type === "url" ? text : entity.url);
      if (!href) return el("span");
      const link = el("a");
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      return link;
    }
    case "bot_command":
      return view.from_bot ? commandLink(text) : el("span");
    default:
      return el("span");
  }
}

function commandLink(command) {
  const link = el("a", "command");
  link.href = "#";
  link.dataset.command = command;
  return link;
}

// Telegram's clients make /commands and web addresses in the bot's plain text tappable.
const AUTO = /(^|[\s(])(\/[a-z0-9_]{1,32})(?![\w/])|(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]])/gi;

function appendPlain(parent, text, view) {
  if (!view.from_bot) {
    parent.append(text);
    return;
  }
  let last = 0;
  for (const match of text.matchAll(AUTO)) {
    const start = match.index + (match[1] ? match[1].length : 0);
    const word = match[2] || match[3];
    parent.append(text.slice(last, start));
    let node;
    if (match[2]) {
      node = commandLink(word);
    } else {
      node = el("a");
      node.href = safeUrl(word) || "#";
      node.target = "_blank";
      node.rel = "noopener noreferrer";
    }
    node.textContent = word;
    parent.append(node);
    last = start + word.length;
  }
  parent.append(text.slice(last));
}

function appendFormatted(parent, text, start, end, entities, view, plain) {
  let position = start;
  let index = 0;
  while (index < entities.length) {
    const entity = entities[index];
    const from = Math.max(entity.offset, position);
    const to = Math.min(entity.offset + entity.length, end);
    if (from >= end) break;
    if (to <= from) { index += 1; continue; }
    if (from > position) appendText(parent, text.slice(position, from), view, plain);
    const inside = [];
    let next = index + 1;
    while (next < entities.length && entities[next].offset < to) inside.push(entities[next++]);
    const made = entityNode(entity, text.slice(from, to), view);
    const outer = made.outer || made;
    const inner = made.inner || made;
    const literal = plain || ["code", "pre", "text_link", "url", "bot_command"].includes(entity.type);
    appendFormatted(inner, text, from, to, inside, view, literal);
    parent.append(outer);
    position = to;
    index = next;
  }
  if (position < end) appendText(parent, text.slice(position, end), view, plain);
}

function appendText(parent, text, view, plain) {
  if (plain) parent.append(text);
  else appendPlain(parent, text, view);
}

function formatted(text, entities, view) {
  const body = el("div", "body");
  const sorted = (entities || [])
    .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  appendFormatted(body, text || "", 0, (text || "").length, sorted, view, false);
  return body;
}

// -- messages by kind --------------------------------------------------------------------------------------------
function fileSize(bytes) {
  if (bytes == null) return "";
  if (bytes < 1024) return `${bytes} B`;
  return `${(bytes / 1024).toFixed(1)} KB`;
}

const MESSAGE_KINDS = {
  text(view) {
    return [formatted(view.text, view.entities, view)];
  },
  document(view) {
    const doc = view.document;
    const box = el("div", "document");
    const icon = el(doc.url ? "a" : "span", "document-icon", "⤓");
    if (doc.url) {
      icon.href = doc.url;
      icon.download = doc.name;
      icon.title = `Download ${doc.name}`;
    }
    const info = el("div");
    const name = el(doc.url ? "a" : "div", "document-name", doc.name);
    if (doc.url) {
      name.href = doc.url;
      name.download = doc.name;
    }
    info.append(name, el("div", "document-size", fileSize(doc.size)));
    box.append(icon, info);
    return [box, formatted(view.text, view.entities, view)];
  },
  photo(view) {
    const image = el("img", "photo");
    image.src = view.photo.url;
    image.alt = "Photo";
    if (view.photo.width && view.photo.height) {
      image.width = Math.min(view.photo.width, 260);
      image.height = Math.round(image.width * view.photo.height / view.photo.width);
    }
    return [image, formatted(view.text, view.entities, view)];
  },
  invoice(view) {
    const box = el("div", "invoice");
    box.append(
      el("div", "invoice-title", view.invoice.title),
      el("div", "invoice-description", view.invoice.description),
      el("div", "invoice-price", view.invoice.price),
    );
    return [box, el("div", "body invoice-note", "Test payment: no money moves.")];
  },
  payment(view) {
    return [el("div", "body service", `You paid ${view.text}.`)];
  },
  unsupported(view) {
    return [el("div", "body", "This kind of message is not shown in the sandbox.")];
  },
};

const BUTTON_KINDS = {
  callback(button, view, pane) {
    const node = el("button", "kb-button", button.text);
    node.type = "button";
    if (pane.pending && pane.pending.messageId === view.id && pane.pending.data === button.data) {
      node.classList.add("pending");
    }
    node.addEventListener("click", () => pane.press(view.id, button.data));
    return node;
  },
  pay(button, view, pane) {
    const node = el("button", "kb-button pay-button", button.text);
    node.type = "button";
    if (pane.pending && pane.pending.messageId === view.id && pane.pending.data === null) {
      node.classList.add("pending");
    }
    node.addEventListener("click", () => pane.pay(view.id));
    return node;
  },
  url(button) {
    const href = safeUrl(button.url);
    const node = el(href ? "a" : "span", "kb-button", `${button.text} ↗`);
    if (href) {
      node.href = href;
      node.target = "_blank";
      node.rel = "noopener noreferrer";
      node.title = href;
    }
    return node;
  },
  unsupported(button) {
    const node = el("button", "kb-button", button.text);
    node.type = "button";
    node.disabled = true;
    node.title = "Not available in the sandbox";
    return node;
  },
};

function renderMessage(view, zone, pane) {
  const row = el("div", `msg ${view.from_bot ? "in" : "out"}`);
  row.dataset.id = view.id;
  const bubble = el("div", "bubble");
  const render = MESSAGE_KINDS[view.kind] || MESSAGE_KINDS.unsupported;
  const parts = render(view);
  const when = formatIn(zone, new Date(view.date * 1000), { hour: "2-digit", minute: "2-digit" });
  const meta = el("span", "meta", view.edited ? `edited ${when}` : when);
  const last = parts[parts.length - 1];
  last.append(meta);
  bubble.append(...parts);
  row.append(bubble);
  if (view.inline_keyboard) {
    const keyboard = el("div", "keyboard");
    for (const buttons of view.inline_keyboard) {
      const line = el("div", "keyboard-row");
      for (const button of buttons) {
        const draw = BUTTON_KINDS[button.kind] || BUTTON_KINDS.unsupported;
        line.append(draw(button, view, pane));
      }
      keyboard.append(line);
    }
    row.append(keyboard);
  }
  return row;
}

// -- a chat pane -------------------------------------------------------------------------------------------------
class Pane {
  constructor(index) {
    this.index = index;
    this.personId = null;
    this.pending = null; // the pressed button waiting for the bot's answer
    this.toastTimer = null;
    const fragment = document.getElementById("pane-template").content.cloneNode(true);
    this.root = fragment.querySelector(".pane");
    this.root.dataset.pane = String(index);
    this.messages = this.root.querySelector(".messages");
    this.composer = this.root.querySelector(".composer");
    this.input = this.root.querySelector("textarea");
    this.menu = this.root.querySelector(".command-menu");
    this.menuButton = this.root.querySelector(".menu-button");
    this.startBar = this.root.querySelector(".start");
    this.replyKeyboard = this.root.querySelector(".reply-keyboard");
    this.toastNode = this.root.querySelector(".toast");
    this.root.addEventListener("pointerdown", () => focusPane(this.index));
    this.root.addEventListener("focusin", () => focusPane(this.index));
    this.root.querySelector(".back").addEventListener("click", () => showList());
    this.root.querySelector(".close").addEventListener("click", () => closePane(this.index));
    this.root.querySelector(".start-button").addEventListener("click", () => this.send("/start"));
    this.composer.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      } else if (event.key === "Escape") {
        this.menu.hidden = true;
      }
    });
    this.input.addEventListener("input", () => {
      this.input.style.height = "auto";
      this.input.style.height = `${Math.min(this.input.scrollHeight, 140)}px`;
      const typed = this.input.value;
      if (/^\/\w*$/.test(typed)) this.showMenu(typed.slice(1));
      else this.menu.hidden = true;
    });
    this.menuButton.addEventListener("click", () => {
      if (this.menu.hidden) this.showMenu("");
      else this.menu.hidden = true;
    });
    this.messages.addEventListener("click", (event) => {
      const command = event.target.closest(".command");
      if (command) {
        event.preventDefault();
        this.send(command.dataset.command);
      }
    });
  }

  get chat() {
    return state.chats.get(this.personId);
  }

  async open(personId) {
    this.personId = personId;
    this.pending = null;
    this.input.value = "";
    this.menu.hidden = true;
    state.unread.delete(personId);
    this.renderHead();
    this.messages.replaceChildren();
    await loadChat(personId);
    if (this.personId === personId) this.render(true);
  }

  renderHead() {
    const someone = person(this.personId);
    if (!someone) return;
    paintAvatar(this.root.querySelector(".avatar"), someone);
    this.root.querySelector(".pane-name").textContent = someone.name;
    this.root.dataset.person = String(someone.id);
    this.updateClock();
  }

  updateClock() {
    const someone = person(this.personId);
    if (!someone) return;
    const time = formatIn(someone.zone, botNow(), { weekday: "short", hour: "2-digit", minute: "2-digit" });
    const role = someone.mentor ? "mentor" : "mentee";
    this.root.querySelector(".pane-sub").textContent =
      `${role} · with ${state.bot ? state.bot.name : "the bot"} · ${time} in ${zoneCity(someone.zone)}`;
  }

  render(toBottom = false) {
    const chat = this.chat;
    const someone = person(this.personId);
    if (!chat || !someone) return;
    const atBottom = this.messages.scrollHeight - this.messages.scrollTop - this.messages.clientHeight < 40;
    const nodes = [];
    let day = null;
    let replyKeyboard = null;
    const views = [...chat.messages.values()].sort((a, b) => a.id - b.id);
    for (const view of views) {
      if (view.deleted) continue;
      const thisDay = formatIn(someone.zone, new Date(view.date * 1000), {
        weekday: "long", day: "numeric", month: "long",
      });
      if (thisDay !== day) {
        nodes.push(el("div", "day", thisDay));
        day = thisDay;
      }
      nodes.push(renderMessage(view, someone.zone, this));
      if (view.reply_keyboard) replyKeyboard = view.reply_keyboard;
      else if (view.remove_keyboard) replyKeyboard = null;
      else if (!view.from_bot && replyKeyboard && replyKeyboard.one_time) replyKeyboard = null;
    }
    this.messages.replaceChildren(...nodes);
    this.renderReplyKeyboard(replyKeyboard);
    const empty = views.every((v) => v.deleted);
    this.startBar.hidden = !empty;
    this.composer.hidden = empty;
    this.menuButton.hidden = chat.commands.length === 0;
    if (toBottom || atBottom) this.messages.scrollTop = this.messages.scrollHeight;
  }

  renderReplyKeyboard(keyboard) {
    this.replyKeyboard.hidden = !keyboard;
    if (!keyboard) return;
    const rows = keyboard.rows.map((labels) => {
      const line = el("div", "keyboard-row");
      for (const label of labels) {
        const button = el("button", "reply-button", label);
        button.type = "button";
        button.addEventListener("click", () => this.send(label));
        line.append(button);
      }
      return line;
    });
    this.replyKeyboard.replaceChildren(...rows);
    if (keyboard.placeholder) this.input.placeholder = keyboard.placeholder;
  }

  showMenu(filter) {
    const commands = (this.chat ? this.chat.commands : []).filter((c) => c.command.startsWith(filter));
    const items = commands.map((c) => {
      const item = el("li");
      const button = el("button");
      button.type = "button";
      button.setAttribute("role", "menuitem");
      button.append(el("span", "cmd", `/${c.command}`), el("span", "desc", c.description));
      button.addEventListener("click", () => {
        this.menu.hidden = true;
        this.input.value = "";
        this.send(`/${c.command}`);
      });
      item.append(button);
      return item;
    });
    this.menu.replaceChildren(...items);
    this.menu.hidden = items.length === 0;
  }

  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = "";
    this.input.style.height = "auto";
    this.menu.hidden = true;
    this.send(text);
  }

  async send(text) {
    try {
      await api(`/api/chats/${this.personId}/messages`, { text });
    } catch (error) {
      this.toast(`Not sent: ${error.message}`);
    }
  }

  async press(messageId, data) {
    this.pending = { messageId, data, query: null };
    this.render();
    try {
      const answer = await api(`/api/chats/${this.personId}/press`, { message_id: messageId, data });
      if (this.pending && this.pending.messageId === messageId) this.pending.query = answer.query_id;
    } catch (error) {
      this.pending = null;
      this.render();
      this.toast(error.message);
    }
  }

  async pay(messageId) {
    this.pending = { messageId, data: null, query: null };
    this.render();
    try {
      const result = await api(`/api/chats/${this.personId}/pay`, { message_id: messageId });
      if (result.ok) this.toast("Payment sent");
      else showAlert(result.error || "The bot did not accept this payment.");
    } catch (error) {
      this.toast(error.message);
    } finally {
      this.pending = null;
      this.render();
    }
  }

  answered(event) {
    if (this.pending && (this.pending.query === null || this.pending.query === event.query_id)) {
      this.pending = null;
      this.render();
    }
    if (!event.text) return;
    if (event.alert) showAlert(event.text);
    else this.toast(event.text);
  }

  toast(text) {
    this.toastNode.textContent = text;
    this.toastNode.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => { this.toastNode.hidden = true; }, 2600);
  }
}

// -- panes and the people list -----------------------------------------------------------------------------------
function focusPane(index) {
  if (state.focused === index) return;
  state.focused = index;
  renderPanes();
}

async function openChat(personId, { beside = false } = {}) {
  let index = state.focused;
  if (beside && !NARROW.matches) {
    const existing = state.panes.findIndex((p) => p.personId === personId);
    if (existing >= 0) index = existing;
    else if (state.panes.length < 2) index = state.panes.length;
    else index = 1 - state.focused;
  } else {
    const existing = state.panes.findIndex((p) => p.personId === personId);
    if (existing >= 0) index = existing;
  }
  if (index >= state.panes.length) {
    index = state.panes.length;
    state.panes.push(new Pane(index));
  }
  state.focused = index;
  document.body.classList.replace("show-list", "show-chat");
  const pane = state.panes[index];
  renderPanes();
  await pane.open(personId);
  renderPeople();
  saveLocation();
}

function closePane(index) {
  state.panes.splice(index, 1);
  state.panes.forEach((pane, i) => { pane.index = i; pane.root.dataset.pane = String(i); });
  state.focused = Math.min(state.focused, Math.max(state.panes.length - 1, 0));
  renderPanes();
  renderPeople();
  saveLocation();
}

function showList() {
  document.body.classList.replace("show-chat", "show-list");
}

function renderPanes() {
  const container = document.getElementById("panes");
  const empty = document.getElementById("empty-panes");
  empty.hidden = state.panes.length > 0;
  // Move nothing that is already in place: a chat taken out of the page and put back loses its scroll position.
  const wanted = state.panes.map((p) => p.root);
  for (const node of container.querySelectorAll(".pane")) {
    if (!wanted.includes(node)) node.remove();
  }
  wanted.forEach((node, i) => {
    if (container.children[i + 1] !== node) container.insertBefore(node, container.children[i + 1] || null);
  });
  state.panes.forEach((pane, i) => pane.root.classList.toggle("focused", i === state.focused));
  renderPeople();
}

function renderPeople() {
  const list = document.getElementById("people-list");
  const focusedId = state.panes[state.focused] ? state.panes[state.focused].personId : null;
  const open = new Set(state.panes.map((p) => p.personId));
  const items = state.people.map((someone) => {
    const item = el("li", "person");
    item.dataset.person = String(someone.id);
    item.tabIndex = 0;
    if (open.has(someone.id)) item.classList.add("open");
    if (someone.id === focusedId) item.classList.add("focused");
    const avatar = el("div", "avatar");
    paintAvatar(avatar, someone);
    const main = el("div", "person-main");
    const language = (state.languages.find((l) => l.code === someone.language) || {}).name || someone.language;
    main.append(
      el("div", "person-name", someone.name),
      el("div", `role ${someone.mentor ? "mentor" : "mentee"}`, someone.mentor ? "mentor" : "mentee"),
      el("div", "person-sub", `${language} · ${someone.zone}`),
    );
    item.append(avatar, main);
    const unread = state.unread.get(someone.id);
    if (unread) item.append(el("span", "unread", String(unread)));
    const beside = el("button", "beside");
    beside.type = "button";
    beside.title = `Open ${someone.name}'s chat beside`;
    beside.setAttribute("aria-label", beside.title);
    beside.addEventListener("click", (event) => {
      event.stopPropagation();
      openChat(someone.id, { beside: true });
    });
    item.append(beside);
    item.addEventListener("click", () => openChat(someone.id));
    item.addEventListener("keydown", (event) => {
      if (event.key === "Enter") openChat(someone.id);
    });
    return item;
  });
  list.replaceChildren(...items);
}

function saveLocation() {
  const ids = state.panes.map((p) => p.personId).filter(Boolean);
  history.replaceState(null, "", ids.length ? `#chats=${ids.join(",")}` : location.pathname);
}

// -- data --------------------------------------------------------------------------------------------------------
async function loadState() {
  const data = await api("/api/state");
  state.bot = data.bot;
  state.people = data.people;
  state.languages = data.languages;
  setClock(data.clock);
}

async function loadChat(personId) {
  const data = await api(`/api/chats/${personId}`);
  state.chats.set(personId, {
    messages: new Map(data.messages.map((m) => [m.id, m])),
    commands: data.commands,
  });
}

function setClock(clock) {
  state.clock = { base: Date.parse(clock.now), at: performance.now(), offsetSeconds: clock.offset_seconds };
  tick();
}

function tick() {
  const now = botNow();
  const text = formatIn("UTC", now, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });
  const node = document.getElementById("clock-time");
  node.textContent = `${text} UTC`;
  node.dateTime = now.toISOString();
  const ahead = state.clock.offsetSeconds;
  const hours = Math.floor(ahead / 3600);
  const minutes = Math.floor((ahead % 3600) / 60);
  document.getElementById("clock-offset").textContent = ahead >= 60
    ? `+${hours ? `${hours} h ` : ""}${minutes} min ahead` : "";
  state.panes.forEach((pane) => pane.updateClock());
}

function onMessageEvent(event) {
  const chat = state.chats.get(event.chat_id);
  if (chat) chat.messages.set(event.message.id, event.message);
  const panes = state.panes.filter((p) => p.personId === event.chat_id);
  panes.forEach((pane) => pane.render());
  if (!panes.length && event.event === "sent" && event.message.from_bot) {
    state.unread.set(event.chat_id, (state.unread.get(event.chat_id) || 0) + 1);
    renderPeople();
  }
}

async function onEvent(event) {
  switch (event.type) {
    case "hello":
      setClock(event.clock);
      await resync();
      break;
    case "message":
      onMessageEvent(event);
      break;
    case "answer":
      state.panes.filter((p) => p.personId === event.chat_id).forEach((p) => p.answered(event));
      break;
    case "commands":
      for (const pane of state.panes) {
        if (event.chat_id === null || pane.personId === event.chat_id) {
          await loadChat(pane.personId);
          pane.render();
        }
      }
      break;
    case "clock":
      setClock(event.clock);
      break;
    case "people":
      await loadState();
      renderPeople();
      break;
    default:
      break;
  }
}

// After (re)connecting, events may have been missed: load what is on screen again.
async function resync() {
  await loadState();
  for (const pane of state.panes) {
    await loadChat(pane.personId);
    pane.renderHead();
    pane.render();
  }
  renderPeople();
}

function listen() {
  const source = new EventSource("/api/events");
  let queue = Promise.resolve();
  source.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    queue = queue.then(() => onEvent(event)).catch((error) => console.error(error));
  });
  source.addEventListener("open", () => { document.body.dataset.live = "yes"; });
  source.addEventListener("error", () => { document.body.dataset.live = "no"; });
}

// -- time travel, alerts, adding a person ------------------------------------------------------------------------
function globalToast(text) {
  const node = document.getElementById("global-toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(globalToast.timer);
  globalToast.timer = setTimeout(() => { node.hidden = true; }, 3000);
}

function clockNote(text) {
  const node = document.getElementById("clock-note");
  node.textContent = text;
  node.classList.remove("flash");
  void node.offsetWidth; // restart the highlight
  node.classList.add("flash");
}

function showAlert(text) {
  const dialog = document.getElementById("alert-dialog");
  dialog.querySelector(".alert-text").textContent = text;
  dialog.showModal();
}

async function travel(by, button) {
  const buttons = document.querySelectorAll("[data-travel]");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const result = await api("/api/clock", { by });
    setClock(result.clock);
    const moved = { hour: "+1 hour", day: "+1 day", next: `→ next ${result.note}` }[by];
    clockNote(result.note === "Nothing is scheduled." ? result.note : moved);
  } catch (error) {
    globalToast(error.message);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    button.blur();
  }
}

let zonesLoaded = false;

async function openPersonDialog() {
  const dialog = document.getElementById("person-dialog");
  const form = document.getElementById("person-form");
  const select = form.elements.language;
  select.replaceChildren(...state.languages.map((l) => {
    const option = el("option", "", `${l.name} (${l.code})`);
    option.value = l.code;
    return option;
  }));
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "Asia/Kolkata";
  form.elements.zone.value = zone.includes("/") ? zone : "Asia/Kolkata";
  form.elements.name.value = "";
  form.querySelector(".dialog-error").hidden = true;
  dialog.showModal();
  if (!zonesLoaded) {
    const data = await api("/api/zones");
    document.getElementById("zone-list").replaceChildren(...data.zones.map((z) => {
      const option = el("option");
      option.value = z;
      return option;
    }));
    zonesLoaded = true;
  }
}

async function addPerson(event) {
  event.preventDefault();
  const form = event.target;
  const error = form.querySelector(".dialog-error");
  try {
    const made = await api("/api/people", {
      name: form.elements.name.value,
      language: form.elements.language.value,
      zone: form.elements.zone.value.trim(),
    });
    document.getElementById("person-dialog").close();
    await loadState();
    await openChat(made.id);
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  }
}

// -- start -------------------------------------------------------------------------------------------------------
async function start() {
  document.querySelectorAll("[data-travel]").forEach((button) => {
    button.addEventListener("click", () => travel(button.dataset.travel, button));
  });
  document.getElementById("add-person").addEventListener("click", openPersonDialog);
  document.getElementById("person-form").addEventListener("submit", addPerson);
  document.getElementById("person-cancel").addEventListener("click", () => {
    document.getElementById("person-dialog").close();
  });
  await loadState();
  renderPeople();
  const fromLocation = /^#chats=([\d,]+)$/.exec(location.hash);
  let ids = fromLocation ? fromLocation[1].split(",").map(Number).filter((id) => person(id)) : [];
  if (!ids.length && !NARROW.matches) {
    const mentee = state.people.find((p) => !p.mentor);
    const mentor = state.people.find((p) => p.mentor);
    ids = [mentee, mentor].filter(Boolean).map((p) => p.id);
  }
  for (const [index, id] of ids.slice(0, NARROW.matches ? 1 : 2).entries()) {
    await openChat(id, { beside: index > 0 });
  }
  if (ids.length) focusPane(0);
  listen();
  setInterval(tick, 1000);
  document.body.dataset.ready = "yes";
  performance.mark("sandbox-ready"); // the first load, measured by the browser test
}

start().catch((error) => {
  console.error(error);
  globalToast(`The sandbox did not answer: ${error.message}`);
});
