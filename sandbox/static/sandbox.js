/* The sandbox page: a minimal Slack client whose every action goes to /sandbox/api, which sends Mend what Slack would. */
(function () {
  "use strict";

  const BK = window.BlockKit;
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 1500;

  const ui = {
    state: null,
    me: localStorage.getItem("mend-sandbox-persona") || "",
    view: { kind: "channel", channel: null, tab: "home" }, // kind: "channel" | "app"
    thread: null, // { channel, ts }
    fetchedAt: 0,
    busy: 0,
    seen: {}, // channel id -> number of messages seen, for unread marks
    modalKey: null,
    homeKey: null,
    expanded: new Set(), // message keys whose JSON is shown
  };

  // ---- talking to the sandbox server ----------------------------------------------------------

  async function api(path, body) {
    setBusy(+1);
    try {
      const response = await fetch("/sandbox/api/" + path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ as: ui.me, ...(body || {}) }),
      });
      const data = await response.json();
      if (data.state) applyState(data.state);
      if (data.notice) toast(data.notice);
      if (data.error) toast(data.error);
      return data;
    } catch (err) {
      toast("The sandbox server did not answer: " + err.message);
      return { ok: false };
    } finally {
      setBusy(-1);
    }
  }

  let etag = null;
  async function poll() {
    if (ui.busy) return;
    try {
      const headers = etag ? { "If-None-Match": etag } : {};
      const response = await fetch("/sandbox/api/state?as=" + encodeURIComponent(ui.me), { headers });
      if (response.status === 304) return;
      if (response.status === 400 && ui.me) {
        // A persona remembered from an earlier sandbox that no longer exists: start as the default one.
        ui.me = "";
        localStorage.removeItem("mend-sandbox-persona");
        return;
      }
      if (!response.ok) return;
      etag = response.headers.get("ETag");
      applyState(await response.json());
    } catch (err) {
      /* the server is restarting or gone; try again on the next tick */
    }
  }

  function setBusy(delta) {
    ui.busy += delta;
    $("busy").hidden = ui.busy === 0;
    document.body.classList.toggle("is-busy", ui.busy > 0);
  }

  function toast(text) {
    const t = document.createElement("div");
    t.className = "toast";
    t.setAttribute("role", "alert");
    t.dataset.testid = "toast";
    t.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "×";
    close.addEventListener("click", () => t.remove());
    t.appendChild(close);
    $("toasts").appendChild(t);
    setTimeout(() => t.remove(), 8000);
  }

  // ---- state ----------------------------------------------------------------------------------

  function applyState(state) {
    ui.state = state;
    ui.fetchedAt = Date.now();
    ui.serverNow = new Date(state.clock.now).getTime();
    etag = '"' + state.version + '"';
    if (ui.me !== state.me) {
      ui.me = state.me;
      localStorage.setItem("mend-sandbox-persona", ui.me);
    }
    if (ui.view.kind === "channel" && !channelById(ui.view.channel)) {
      ui.view = { kind: "channel", channel: state.support_channel, tab: "home" };
    }
    render();
  }

  function sandboxNow() {
    return new Date(ui.serverNow + (Date.now() - ui.fetchedAt));
  }

  function channelById(id) {
    return ui.state && ui.state.channels.find((c) => c.id === id);
  }

  function appDm() {
    return ui.state.channels.find((c) => c.is_im);
  }

  function currentChannel() {
    if (ui.view.kind === "app") return ui.view.tab === "messages" ? appDm() : null;
    return channelById(ui.view.channel);
  }

  function blockContext(extra) {
    const st = ui.state;
    const channels = {};
    st.channels.forEach((c) => { channels[c.id] = c; });
    return {
      users: st.users,
      channels,
      me: st.me,
      now: sandboxNow,
      isInternal: (url) => parsePermalink(url) !== null,
      onUrl: (url) => openUrl(url),
      confirm: confirmDialog,
      menu: showMenu,
      ...extra,
    };
  }

  // ---- navigation ---------------------------------------------------------------------------

  function parsePermalink(url) {
    const st = ui.state;
    const m = /^https:\/\/([a-z0-9.-]+)\.slack\.com\/archives\/([A-Z0-9]+)\/p(\d{7,})(?:\?(.*))?$/.exec(url || "");
    if (!m || (st && m[1] !== st.team.domain)) return null;
    const ts = m[3].slice(0, -6) + "." + m[3].slice(-6);
    const query = new URLSearchParams(m[4] || "");
    return { channel: m[2], ts, thread_ts: query.get("thread_ts") };
  }

  function openUrl(url) {
    const link = parsePermalink(url);
    if (link) {
      goToMessage(link);
      return;
    }
    window.open(url, "_blank", "noopener,noreferrer");
  }

  function goToMessage(link) {
    const channel = channelById(link.channel);
    if (!channel) {
      toast("You are not in that channel.");
      return;
    }
    selectChannel(channel.id);
    const parentTs = link.thread_ts || link.ts;
    const parent = channel.messages.find((m) => m.ts === parentTs);
    if (link.thread_ts || (parent && parent.replies && parent.replies.length)) {
      ui.thread = { channel: channel.id, ts: parentTs };
      render();
    }
    highlight(link.ts);
  }

  function highlight(ts) {
    requestAnimationFrame(() => {
      document.querySelectorAll(`.message[data-ts="${CSS.escape(ts)}"]`).forEach((node) => {
        node.scrollIntoView({ block: "center" });
        node.classList.add("highlight");
        setTimeout(() => node.classList.remove("highlight"), 2500);
      });
    });
  }

  function selectChannel(id) {
    if (channelById(id) && channelById(id).is_im) {
      openApp("messages");
      return;
    }
    ui.view = { kind: "channel", channel: id, tab: "home" };
    if (ui.thread && ui.thread.channel !== id) ui.thread = null;
    render(true);
  }

  function openApp(tab) {
    ui.view = { kind: "app", channel: null, tab };
    ui.thread = null;
    render(true);
    if (tab === "home") api("home");
  }

  // ---- rendering --------------------------------------------------------------------------------

  function render(scrollToEnd) {
    if (!ui.state) return;
    renderTopbar();
    renderSidebar();
    renderMain(scrollToEnd);
    renderThread();
    renderModal();
    tickClock();
  }

  function renderTopbar() {
    const st = ui.state;
    const select = $("persona");
    const options = st.personas.map((p) => `${p.user_id}|${p.real_name}|${p.title}`).join(";");
    if (select.dataset.options !== options) {
      select.textContent = "";
      st.personas.forEach((p) => {
        const o = document.createElement("option");
        o.value = p.user_id;
        o.textContent = `${p.real_name} · ${p.title}`;
        select.appendChild(o);
      });
      select.dataset.options = options;
    }
    select.value = st.me;
    $("team-name").textContent = st.team.name;
  }

  function tickClock() {
    if (!ui.state) return;
    const now = sandboxNow();
    const node = $("clock-now");
    node.textContent = now.toLocaleString("en-GB", {
      weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
    });
    node.dateTime = now.toISOString();
    const offset = ui.state.clock.offset_seconds;
    $("clock-offset").textContent = offset > 0 ? "(" + describeOffset(offset) + " ahead)" : "";
  }

  function describeOffset(seconds) {
    const days = Math.floor(seconds / 86400);
    const hours = Math.floor((seconds % 86400) / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    const parts = [];
    if (days) parts.push(days + (days === 1 ? " day" : " days"));
    if (hours) parts.push(hours + (hours === 1 ? " hour" : " hours"));
    if (!days && minutes) parts.push(minutes + " min");
    return parts.join(" ") || "a moment";
  }

  function sidebarItem(label, prefix, active, unread, onClick, attrs) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "channel-item" + (active ? " active" : "") + (unread ? " unread" : "");
    const p = document.createElement("span");
    p.className = "channel-prefix";
    p.textContent = prefix;
    const name = document.createElement("span");
    name.textContent = label;
    b.append(p, name);
    Object.entries(attrs || {}).forEach(([k, v]) => { b.dataset[k] = v; });
    b.addEventListener("click", onClick);
    li.appendChild(b);
    return li;
  }

  function messageCount(channel) {
    return channel.messages.reduce((n, m) => n + 1 + (m.replies ? m.replies.length : 0), 0);
  }

  function renderSidebar() {
    const st = ui.state;
    const list = $("channel-list");
    const dms = $("dm-list");
    const apps = $("app-list");
    list.textContent = "";
    dms.textContent = "";
    apps.textContent = "";
    const order = [st.support_channel, st.recovery_channel];
    const channels = st.channels.filter((c) => !c.is_im)
      .sort((a, b) => {
        const ia = order.indexOf(a.id), ib = order.indexOf(b.id);
        return (ia < 0 ? 9 : ia) - (ib < 0 ? 9 : ib) || a.name.localeCompare(b.name);
      });
    const current = currentChannel();
    if (current) ui.seen[current.id] = messageCount(current);
    channels.forEach((c) => {
      const active = ui.view.kind === "channel" && ui.view.channel === c.id;
      const unread = !active && ui.seen[c.id] !== undefined && messageCount(c) > ui.seen[c.id];
      if (ui.seen[c.id] === undefined) ui.seen[c.id] = messageCount(c);
      list.appendChild(sidebarItem(c.name, c.is_private ? "🔒" : "#", active, unread,
        () => selectChannel(c.id), { channelId: c.id, testid: "channel-" + c.name }));
    });
    const others = st.personas.filter((p) => p.user_id !== st.me);
    others.forEach((p) => {
      const li = sidebarItem(p.real_name, "●", false, false,
        () => toast("Direct messages between people are not part of the sandbox; Mend's DMs are under Apps."),
        { userId: p.user_id });
      li.firstChild.classList.add("dim");
      dms.appendChild(li);
    });
    const dm = appDm();
    const appActive = ui.view.kind === "app";
    // What the app sent this person before they first looked (an approval request, say) is unread, as in Slack.
    if (dm && ui.seen[dm.id] === undefined) ui.seen[dm.id] = 0;
    const unreadApp = dm && !appActive && messageCount(dm) > ui.seen[dm.id];
    apps.appendChild(sidebarItem(st.app.name, "◆", appActive, unreadApp, () => openApp("home"),
      { testid: "app-" + st.app.name.toLowerCase() }));
  }

  function renderMain(scrollToEnd) {
    const st = ui.state;
    const header = $("main-header");
    header.textContent = "";
    const tabs = $("app-tabs");
    const messages = $("messages");
    const home = $("home");
    const composer = $("composer");
    const input = $("composer-input");
    if (ui.view.kind === "app") {
      const title = document.createElement("div");
      title.className = "pane-title";
      title.append(avatar(st.bot_user_id), document.createTextNode(" " + st.app.name));
      header.appendChild(title);
      tabs.hidden = false;
      tabs.querySelectorAll("button").forEach((b) => {
        b.classList.toggle("active", b.dataset.tab === ui.view.tab);
        if (b.dataset.tab === "home") b.hidden = !st.app.home_tab;
      });
      if (ui.view.tab === "home") {
        messages.hidden = true;
        composer.hidden = true;
        home.hidden = false;
        renderHome();
        return;
      }
      home.hidden = true;
      messages.hidden = false;
      composer.hidden = false;
      const readOnly = st.app.messages_tab_read_only;
      input.disabled = readOnly;
      setComposerEnabled(composer, !readOnly);
      input.placeholder = readOnly ? "Sending messages to this app has been turned off." : "Message " + st.app.name;
      renderMessageList(messages, appDm(), null, scrollToEnd);
      return;
    }
    tabs.hidden = true;
    home.hidden = true;
    messages.hidden = false;
    composer.hidden = false;
    const channel = currentChannel();
    const title = document.createElement("div");
    title.className = "pane-title";
    title.textContent = "# " + channel.name;
    header.appendChild(title);
    if (channel.purpose) {
      const purpose = document.createElement("div");
      purpose.className = "pane-purpose";
      purpose.textContent = channel.purpose;
      header.appendChild(purpose);
    }
    input.disabled = false;
    setComposerEnabled(composer, true);
    input.placeholder = "Message #" + channel.name;
    renderMessageList(messages, channel, null, scrollToEnd);
  }

  /* A read-only Messages tab: nothing can be sent, so Send is greyed out and the typing hints go. */
  function setComposerEnabled(composer, enabled) {
    composer.querySelector(".send").disabled = !enabled;
    composer.querySelector(".composer-help").style.visibility = enabled ? "" : "hidden";
  }

  function renderHome() {
    const st = ui.state;
    const home = $("home");
    const key = st.home ? st.home.id + ":" + st.home.hash : "none";
    if (ui.homeKey === key && home.childElementCount) return;
    ui.homeKey = key;
    home.textContent = "";
    if (!st.home) {
      const empty = document.createElement("div");
      empty.className = "empty-home";
      empty.dataset.testid = "home-empty";
      empty.textContent = `${st.app.name} has not published a Home tab for you yet.`;
      home.appendChild(empty);
      return;
    }
    const registry = [];
    const ctx = blockContext({
      surface: "home",
      register: (block, element, api) => registry.push({ block, element, api }),
      onAction: (block, element, choose) => {
        api("click", {
          surface: "home", view_id: st.home.id, block_id: block.block_id, action_id: element.action_id,
          choose, values: collectValues(registry, false),
        });
      },
    });
    home.appendChild(BK.blocks(st.home.blocks, ctx));
  }

  function nearBottom(node) {
    return node.scrollHeight - node.scrollTop - node.clientHeight < 80;
  }

  function dayLabel(date) {
    const now = sandboxNow();
    const sameDay = (a, b) => a.toDateString() === b.toDateString();
    if (sameDay(date, now)) return "Today";
    if (sameDay(date, new Date(now.getTime() - 86400000))) return "Yesterday";
    return date.toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long" });
  }

  /* Messages of a channel (thread_ts null) or one thread, with this person's ephemerals in time order. */
  function renderMessageList(container, channel, threadTs, scrollToEnd) {
    const stick = scrollToEnd || nearBottom(container);
    const previousTop = container.scrollTop;
    container.textContent = "";
    if (!channel) {
      const empty = document.createElement("div");
      empty.className = "empty";
      empty.textContent = "No messages yet.";
      container.appendChild(empty);
      return;
    }
    let items;
    if (threadTs) {
      const parent = channel.messages.find((m) => m.ts === threadTs);
      items = parent ? [parent, ...(parent.replies || [])].map((m, i) => ({ m, isParent: i === 0 })) : [];
    } else {
      items = channel.messages.map((m) => ({ m }));
    }
    ui.state.ephemerals
      .filter((e) => e.channel === channel.id && (threadTs ? e.thread_ts === threadTs : !e.thread_ts))
      .forEach((e) => items.push({ m: e, ephemeral: true }));
    items.sort((a, b) => (a.isParent ? -1 : b.isParent ? 1 : Number(a.m.ts) - Number(b.m.ts)));
    let lastDay = null;
    items.forEach((item, i) => {
      const date = new Date(Number(item.m.ts) * 1000);
      if (!threadTs && date.toDateString() !== lastDay) {
        const divider = document.createElement("div");
        divider.className = "day-divider";
        const label = document.createElement("span");
        label.textContent = dayLabel(date);
        divider.appendChild(label);
        container.appendChild(divider);
        lastDay = date.toDateString();
      }
      container.appendChild(renderMessage(channel, item.m, { ephemeral: item.ephemeral, inThread: !!threadTs }));
      if (threadTs && item.isParent && items.length > 1) {
        const count = document.createElement("div");
        count.className = "reply-divider";
        count.textContent = `${items.length - 1} ${items.length === 2 ? "reply" : "replies"}`;
        container.appendChild(count);
      }
    });
    if (stick) container.scrollTop = container.scrollHeight;
    else container.scrollTop = previousTop;
  }

  function hueOf(id) {
    let h = 0;
    for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) % 360;
    return h;
  }

  function avatar(userId) {
    const st = ui.state;
    const user = st.users[userId] || { real_name: "?" };
    const a = document.createElement("span");
    a.className = "avatar";
    if (userId === st.bot_user_id) {
      a.classList.add("avatar-app");
      a.textContent = st.app.name.slice(0, 1);
    } else {
      a.textContent = user.real_name.split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();
      a.style.backgroundColor = `hsl(${hueOf(userId)}, 45%, 42%)`;
    }
    return a;
  }

  function renderMessage(channel, m, opts) {
    const st = ui.state;
    const node = document.createElement("div");
    node.className = "message" + (opts.ephemeral ? " ephemeral" : "");
    node.dataset.ts = m.ts;
    node.dataset.testid = opts.ephemeral ? "ephemeral" : "message";
    const userId = m.user || st.bot_user_id;
    const user = st.users[userId] || { real_name: userId };
    node.appendChild(avatar(userId));
    const body = document.createElement("div");
    body.className = "message-body";
    const meta = document.createElement("div");
    meta.className = "message-meta";
    const name = document.createElement("span");
    name.className = "message-author";
    name.textContent = userId === st.bot_user_id ? st.app.name : user.real_name;
    meta.appendChild(name);
    if (userId === st.bot_user_id) {
      const badge = document.createElement("span");
      badge.className = "app-badge";
      badge.textContent = "APP";
      meta.appendChild(badge);
    }
    const time = document.createElement("time");
    time.className = "message-time";
    const date = new Date(Number(m.ts) * 1000);
    time.textContent = date.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" });
    time.title = date.toLocaleString();
    meta.appendChild(time);
    if (m.edited) {
      const edited = document.createElement("span");
      edited.className = "muted";
      edited.textContent = "(edited)";
      meta.appendChild(edited);
    }
    body.appendChild(meta);
    if (opts.ephemeral) {
      const only = document.createElement("div");
      only.className = "only-you";
      only.textContent = "👁 Only visible to you";
      body.insertBefore(only, meta);
    }
    const registry = [];
    const ctx = blockContext({
      surface: opts.ephemeral ? "ephemeral" : "message",
      register: (block, element, api) => registry.push({ block, element, api }),
      onAction: (block, element, choose) => {
        api("click", {
          surface: opts.ephemeral ? "ephemeral" : "message",
          channel: channel.id, ts: m.ts, block_id: block.block_id, action_id: element.action_id, choose,
        });
      },
    });
    const content = document.createElement("div");
    content.className = "message-content";
    if (m.blocks && m.blocks.length) content.appendChild(BK.blocks(m.blocks, ctx));
    else content.appendChild(BK.mrkdwn(m.text, ctx));
    body.appendChild(content);
    const key = channel.id + ":" + m.ts;
    if (ui.expanded.has(key)) {
      const pre = document.createElement("pre");
      pre.className = "message-json";
      const shown = { text: m.text, blocks: m.blocks, metadata: m.metadata, thread_ts: m.thread_ts };
      pre.textContent = JSON.stringify(shown, null, 2);
      body.appendChild(pre);
    }
    if (!opts.inThread && m.replies && m.replies.length) {
      const summary = document.createElement("button");
      summary.type = "button";
      summary.className = "thread-summary";
      summary.dataset.testid = "thread-summary";
      const repliers = [...new Set(m.replies.map((r) => r.user))].slice(0, 3);
      repliers.forEach((u) => summary.appendChild(avatar(u)));
      const label = document.createElement("span");
      label.textContent = `${m.replies.length} ${m.replies.length === 1 ? "reply" : "replies"}`;
      summary.appendChild(label);
      summary.addEventListener("click", () => openThread(channel.id, m.ts));
      body.appendChild(summary);
    }
    node.appendChild(body);
    if (!opts.ephemeral) node.appendChild(messageActions(channel, m, opts, key));
    return node;
  }

  function messageActions(channel, m, opts, key) {
    const bar = document.createElement("div");
    bar.className = "message-actions";
    if (!opts.inThread) {
      const reply = iconButton("Reply", "Reply in thread", () => openThread(channel.id, m.ts));
      reply.dataset.testid = "reply-in-thread";
      bar.appendChild(reply);
    }
    const json = iconButton("{ }", "Show the message's JSON (text, blocks, metadata)", () => {
      if (ui.expanded.has(key)) ui.expanded.delete(key);
      else ui.expanded.add(key);
      render();
    });
    bar.appendChild(json);
    const more = iconButton("⋮", "More actions", (event) => {
      event.stopPropagation();
      const shortcuts = ui.state.app.shortcuts.filter((s) => s.type === "message");
      const items = shortcuts.map((s) => ({
        label: s.name,
        detail: ui.state.app.name,
        run: () => api("shortcut", { callback_id: s.callback_id, channel: channel.id, ts: m.ts }),
      }));
      if (!items.length) items.push({ label: "No message shortcuts", run: () => {} });
      showMenu(more, items, "Message shortcuts");
    });
    more.dataset.testid = "more-actions";
    bar.appendChild(more);
    return bar;
  }

  function iconButton(text, title, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "icon-button";
    b.textContent = text;
    b.title = title;
    b.setAttribute("aria-label", title);
    b.addEventListener("click", onClick);
    return b;
  }

  function openThread(channelId, ts) {
    ui.thread = { channel: channelId, ts };
    render();
    requestAnimationFrame(() => $("thread-input").focus());
  }

  function renderThread() {
    const pane = $("thread-pane");
    const channel = ui.thread && channelById(ui.thread.channel);
    if (!channel || !channel.messages.some((m) => m.ts === ui.thread.ts)) {
      pane.hidden = true;
      return;
    }
    pane.hidden = false;
    $("thread-where").textContent = channel.is_im ? ui.state.app.name : "#" + channel.name;
    renderMessageList($("thread-messages"), channel, ui.thread.ts, false);
  }

  // ---- modals ---------------------------------------------------------------------------------

  function collectValues(registry, inputsOnly) {
    const values = {};
    registry.forEach(({ block, element, api }) => {
      const value = api.get();
      if (block.type === "input") {
        values[block.block_id] = value;
      } else if (!inputsOnly && value !== null && !(Array.isArray(value) && !value.length)) {
        values[block.block_id] = { ...(values[block.block_id] || {}), [element.action_id]: value };
      }
    });
    return values;
  }

  function renderModal() {
    const root = $("modal-root");
    const modal = ui.state.modal;
    const key = modal ? [modal.id, modal.hash, JSON.stringify(modal.errors)].join("|") : null;
    if (key === ui.modalKey) return;
    const previous = ui.modalRegistry && ui.modalViewId === (modal && modal.id) ? ui.modalRegistry : null;
    const kept = {};
    (previous || []).forEach(({ block, element, api }) => {
      kept[block.block_id + "/" + element.action_id] = api.get();
    });
    ui.modalKey = key;
    root.textContent = "";
    ui.modalRegistry = null;
    ui.modalViewId = modal && modal.id;
    if (!modal) return;

    const overlay = document.createElement("div");
    overlay.className = "overlay";
    const box = document.createElement("div");
    box.className = "modal";
    box.dataset.testid = "modal";
    box.dataset.viewId = modal.id;
    box.dataset.callbackId = modal.callback_id || "";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");

    const head = document.createElement("div");
    head.className = "modal-head";
    if (modal.depth > 1) head.appendChild(iconButton("‹", "Back", () => api("close", { view_id: modal.id })));
    head.appendChild(avatar(ui.state.bot_user_id));
    const title = document.createElement("h2");
    title.textContent = BK.plainText(modal.title);
    head.appendChild(title);
    const x = iconButton("×", "Close", () => api("close", { view_id: modal.id }));
    x.dataset.testid = "modal-x";
    head.appendChild(x);
    box.appendChild(head);

    const registry = [];
    const ctx = blockContext({
      surface: "modal",
      errors: modal.errors || {},
      register: (block, element, api) => registry.push({ block, element, api }),
      onAction: (block, element, choose) => {
        api("click", {
          surface: "modal", view_id: modal.id, block_id: block.block_id, action_id: element.action_id,
          choose, values: collectValues(registry, false),
        });
      },
    });
    const body = document.createElement("div");
    body.className = "modal-body";
    body.appendChild(BK.blocks(modal.blocks, ctx));
    box.appendChild(body);
    registry.forEach(({ block, element, api }) => {
      const k = block.block_id + "/" + element.action_id;
      if (k in kept) api.set(kept[k]);
    });
    ui.modalRegistry = registry;

    const foot = document.createElement("div");
    foot.className = "modal-foot";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "bk-button";
    cancel.dataset.testid = "modal-close";
    cancel.textContent = modal.close ? BK.plainText(modal.close) : "Cancel";
    cancel.addEventListener("click", () => api("close", { view_id: modal.id }));
    foot.appendChild(cancel);
    if (modal.submit) {
      const submit = document.createElement("button");
      submit.type = "button";
      submit.className = "bk-button bk-primary";
      submit.dataset.testid = "modal-submit";
      submit.textContent = BK.plainText(modal.submit);
      submit.disabled = !!modal.submit_disabled;
      submit.addEventListener("click", () => submitModal(modal, registry, box));
      foot.appendChild(submit);
    }
    box.appendChild(foot);
    overlay.appendChild(box);
    root.appendChild(overlay);
    const firstError = box.querySelector(".bk-has-error");
    const focus = box.querySelector("[data-focus='1']") || box.querySelector("input, textarea, select");
    requestAnimationFrame(() => {
      if (firstError) firstError.scrollIntoView({ block: "center" });
      else if (focus && !previous) focus.focus();
    });
  }

  /* What the Slack client checks before it sends anything: required inputs and minimum lengths. */
  function clientProblems(registry, box) {
    let problems = 0;
    box.querySelectorAll(".bk-client-error").forEach((n) => { n.textContent = ""; });
    box.querySelectorAll(".bk-client-invalid").forEach((n) => n.classList.remove("bk-client-invalid"));
    registry.forEach(({ block, api }) => {
      if (block.type !== "input") return;
      const value = api.get();
      const empty = value === null || value === "" || (Array.isArray(value) && !value.length);
      let message = null;
      if (empty && !block.optional) message = "Please complete this required field.";
      else if (!empty && api.minLength && String(value).length < api.minLength) {
        message = `Please enter at least ${api.minLength} characters.`;
      }
      if (message) {
        problems += 1;
        const node = box.querySelector(`.bk-block[data-block-id="${CSS.escape(block.block_id)}"]`);
        if (node) {
          node.classList.add("bk-client-invalid");
          const slot = node.querySelector(".bk-client-error");
          if (slot) slot.textContent = "⚠ " + message;
        }
      }
    });
    return problems;
  }

  async function submitModal(modal, registry, box) {
    if (clientProblems(registry, box)) {
      const first = box.querySelector(".bk-client-invalid");
      if (first) first.scrollIntoView({ block: "center" });
      return;
    }
    box.querySelectorAll(".modal-foot button").forEach((b) => { b.disabled = true; });
    const result = await api("submit", { view_id: modal.id, values: collectValues(registry, false) });
    if (!result.ok) box.querySelectorAll(".modal-foot button").forEach((b) => { b.disabled = false; });
  }

  // ---- dialogs and menus ----------------------------------------------------------------------

  function confirmDialog(confirm, onConfirm) {
    const root = $("dialog-root");
    root.textContent = "";
    const overlay = document.createElement("div");
    overlay.className = "overlay dialog-overlay";
    const box = document.createElement("div");
    box.className = "modal dialog";
    box.dataset.testid = "confirm";
    const title = document.createElement("h2");
    title.textContent = BK.plainText(confirm.title) || "Are you sure?";
    const text = document.createElement("div");
    text.className = "dialog-text";
    text.appendChild(BK.textObject(confirm.text, blockContext({})));
    const foot = document.createElement("div");
    foot.className = "modal-foot";
    const deny = document.createElement("button");
    deny.type = "button";
    deny.className = "bk-button";
    deny.textContent = BK.plainText(confirm.deny) || "Cancel";
    deny.addEventListener("click", () => { root.textContent = ""; });
    const ok = document.createElement("button");
    ok.type = "button";
    ok.className = "bk-button " + (confirm.style === "danger" ? "bk-danger" : "bk-primary");
    ok.dataset.testid = "confirm-ok";
    ok.textContent = BK.plainText(confirm.confirm) || "Yes";
    ok.addEventListener("click", () => { root.textContent = ""; onConfirm(); });
    foot.append(deny, ok);
    box.append(title, text, foot);
    overlay.appendChild(box);
    root.appendChild(overlay);
    ok.focus();
  }

  function showMenu(anchor, items, heading) {
    const root = $("menu-root");
    root.textContent = "";
    const menu = document.createElement("div");
    menu.className = "menu";
    menu.dataset.testid = "menu";
    if (heading) {
      const h = document.createElement("div");
      h.className = "menu-heading";
      h.textContent = heading;
      menu.appendChild(h);
    }
    items.forEach((item) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "menu-item";
      b.textContent = item.label;
      if (item.detail) {
        const d = document.createElement("span");
        d.className = "menu-detail";
        d.textContent = item.detail;
        b.appendChild(d);
      }
      b.addEventListener("click", () => { root.textContent = ""; item.run(); });
      menu.appendChild(b);
    });
    const rect = anchor.getBoundingClientRect();
    menu.style.top = Math.min(rect.bottom + 4, window.innerHeight - 40 - items.length * 36) + "px";
    menu.style.left = Math.max(8, Math.min(rect.left, window.innerWidth - 260)) + "px";
    root.appendChild(menu);
  }

  document.addEventListener("click", (event) => {
    const menu = document.querySelector("#menu-root .menu");
    if (menu && !menu.contains(event.target)) $("menu-root").textContent = "";
    const link = event.target.closest("a");
    if (!link) return;
    if (link.dataset.channelId) {
      event.preventDefault();
      selectChannel(link.dataset.channelId);
    } else if (link.dataset.internal) {
      event.preventDefault();
      openUrl(link.href);
    }
  });

  // ---- composers ------------------------------------------------------------------------------

  function commandMenu() {
    const input = $("composer-input");
    const menu = $("command-menu");
    const text = input.value;
    if (!ui.state || !text.startsWith("/") || text.includes(" ")) {
      menu.hidden = true;
      return;
    }
    const matches = ui.state.app.commands.filter((c) => c.command.startsWith(text));
    menu.textContent = "";
    matches.forEach((c) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "command-option";
      const name = document.createElement("strong");
      name.textContent = c.command + " ";
      const hint = document.createElement("span");
      hint.className = "muted";
      hint.textContent = c.usage_hint;
      const desc = document.createElement("div");
      desc.className = "command-description";
      desc.textContent = c.description + " · " + ui.state.app.name;
      b.append(name, hint, desc);
      b.addEventListener("click", () => {
        input.value = c.command + " ";
        menu.hidden = true;
        input.focus();
      });
      menu.appendChild(b);
    });
    menu.hidden = !matches.length;
  }

  async function send(input, threadTs) {
    const text = input.value.trim();
    if (!text) return;
    const channel = threadTs ? channelById(ui.thread.channel) : currentChannel();
    if (!channel) return;
    input.value = "";
    $("command-menu").hidden = true;
    if (text.startsWith("/")) {
      const result = await api("command", { channel: channel.id, text });
      if (!result.ok && result.notice && result.notice.includes("not a valid command")) input.value = text;
    } else {
      await api("message", { channel: channel.id, text, thread_ts: threadTs || undefined });
    }
  }

  function wireComposer(form, input, threadTs) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      send(input, threadTs());
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        send(input, threadTs());
      }
    });
  }

  // ---- start ----------------------------------------------------------------------------------

  wireComposer($("composer"), $("composer-input"), () => null);
  wireComposer($("thread-composer"), $("thread-input"), () => (ui.thread ? ui.thread.ts : null));
  $("composer-input").addEventListener("input", commandMenu);
  $("thread-close").addEventListener("click", () => { ui.thread = null; render(); });
  $("persona").addEventListener("change", (e) => {
    ui.me = e.target.value;
    localStorage.setItem("mend-sandbox-persona", ui.me);
    ui.thread = null;
    ui.modalKey = null;
    ui.homeKey = null;
    // Busy across both calls, so nobody (person or test) takes the first answer for the new Home tab.
    setBusy(+1);
    api("persona")
      .then(() => (ui.view.kind === "app" && ui.view.tab === "home" ? api("home") : null))
      .finally(() => setBusy(-1));
  });
  $("app-tabs").addEventListener("click", (e) => {
    const tab = e.target.closest("button[data-tab]");
    if (tab) openApp(tab.dataset.tab);
  });
  document.querySelectorAll("[data-advance]").forEach((b) => {
    b.addEventListener("click", () => api("clock/advance", { seconds: Number(b.dataset.advance) }));
  });
  $("next-due").addEventListener("click", () => api("clock/next-due"));
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    if ($("menu-root").childElementCount) $("menu-root").textContent = "";
    else if ($("dialog-root").childElementCount) $("dialog-root").textContent = "";
  });

  poll();
  setInterval(poll, POLL_MS);
  setInterval(tickClock, 1000);
})();
