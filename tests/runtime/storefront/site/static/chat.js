// A "shopping assistant" that calls OpenAI straight from the browser with the shop's key:
// the anti-pattern EgressGuard exists to find. The visitor's e-mail rides along (as the
// OpenAI `user`), a live-agent socket gets a copy, and the e-mail is kept in a cookie and
// in localStorage.
(function () {
  const OPENAI_KEY = "{{OPENAI_KEY}}";
  const widget = document.getElementById("chat-widget");
  const panel = widget.querySelector(".chat-panel");
  const email = panel.querySelector("input[type=email]");
  const question = panel.querySelector("textarea");
  let socket = null;
  widget.querySelector(".chat-launcher").addEventListener("click", () => {
    panel.classList.add("open");
    socket = new WebSocket("wss://chat.widgetvendor.example/socket");
  });
  question.addEventListener("keydown", async (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    const text = question.value;
    document.cookie = "chat_visitor=" + encodeURIComponent(email.value) + "; path=/";
    localStorage.setItem("chat.visitor", JSON.stringify({email: email.value}));
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({type: "message", visitor: email.value, text: text}));
    }
    const r = await fetch("https://api.openai.com/v1/chat/completions", {
      method: "POST",
      headers: {"Authorization": "Bearer " + OPENAI_KEY, "Content-Type": "application/json"},
      body: JSON.stringify({model: "gpt-4o-mini", user: email.value,
        messages: [{role: "user", content: text}]}),
    });
    const answer = await r.json();
    panel.querySelector(".chat-answer").textContent = answer.choices[0].message.content;
  });
})();
