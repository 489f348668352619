// The emoji picker and the names the composer's ":" autocomplete knows. A
// short list of the emoji people use most, grouped as Discord groups them.

import { h } from './dom.js';
import { closeMenu, popup } from './modal.js';

const table = {
	People: 'grinning 😀 smiley 😃 smile 😄 grin 😁 laughing 😆 sweat_smile 😅 joy 😂 rofl 🤣 slight_smile 🙂 upside_down 🙃 wink 😉 blush 😊 innocent 😇 heart_eyes 😍 star_struck 🤩 kissing_heart 😘 yum 😋 stuck_out_tongue 😛 zany_face 🤪 thinking 🤔 shushing_face 🤫 neutral_face 😐 expressionless 😑 no_mouth 😶 smirk 😏 unamused 😒 rolling_eyes 🙄 grimacing 😬 relieved 😌 pensive 😔 sleepy 😪 sleeping 😴 mask 😷 nerd 🤓 sunglasses 😎 confused 😕 worried 😟 slight_frown 🙁 open_mouth 😮 astonished 😲 flushed 😳 pleading_face 🥺 cry 😢 sob 😭 scream 😱 confounded 😖 weary 😩 tired_face 😫 yawning_face 🥱 triumph 😤 rage 😡 angry 😠 skull 💀 poop 💩 clown 🤡 ghost 👻 alien 👽 robot 🤖 wave 👋 ok_hand 👌 pinched_fingers 🤌 v ✌️ crossed_fingers 🤞 metal 🤘 call_me 🤙 point_left 👈 point_right 👉 point_up 👆 point_down 👇 thumbsup 👍 thumbsdown 👎 fist ✊ punch 👊 clap 👏 raised_hands 🙌 open_hands 👐 handshake 🤝 pray 🙏 muscle 💪 eyes 👀 brain 🧠 salute 🫡 facepalm 🤦 shrug 🤷',
	Nature: 'dog 🐶 cat 🐱 mouse 🐭 hamster 🐹 rabbit 🐰 fox 🦊 bear 🐻 panda 🐼 koala 🐨 tiger 🐯 lion 🦁 cow 🐮 pig 🐷 frog 🐸 monkey 🐵 chicken 🐔 penguin 🐧 bird 🐦 owl 🦉 unicorn 🦄 bee 🐝 bug 🐛 butterfly 🦋 snail 🐌 turtle 🐢 snake 🐍 octopus 🐙 crab 🦀 fish 🐟 dolphin 🐬 whale 🐳 shark 🦈 sunflower 🌻 rose 🌹 tulip 🌷 cactus 🌵 evergreen 🌲 seedling 🌱 four_leaf_clover 🍀 mushroom 🍄 sun ☀️ rainbow 🌈 cloud ☁️ zap ⚡ snowflake ❄️ fire 🔥 droplet 💧 ocean 🌊 star ⭐ sparkles ✨ crescent_moon 🌙 earth 🌍',
	Food: 'apple 🍎 pear 🍐 tangerine 🍊 lemon 🍋 banana 🍌 watermelon 🍉 grapes 🍇 strawberry 🍓 cherries 🍒 peach 🍑 mango 🥭 pineapple 🍍 avocado 🥑 eggplant 🍆 carrot 🥕 corn 🌽 hot_pepper 🌶️ bread 🍞 cheese 🧀 egg 🥚 bacon 🥓 pancakes 🥞 hamburger 🍔 fries 🍟 pizza 🍕 hotdog 🌭 taco 🌮 burrito 🌯 sushi 🍣 ramen 🍜 spaghetti 🍝 cookie 🍪 cake 🍰 birthday 🎂 doughnut 🍩 icecream 🍦 chocolate_bar 🍫 popcorn 🍿 coffee ☕ tea 🍵 beer 🍺 beers 🍻 wine_glass 🍷 cocktail 🍸 champagne 🍾',
	Activities: 'soccer ⚽ basketball 🏀 football 🏈 baseball ⚾ tennis 🎾 volleyball 🏐 8ball 🎱 ping_pong 🏓 trophy 🏆 medal 🏅 first_place 🥇 video_game 🎮 joystick 🕹️ game_die 🎲 dart 🎯 bowling 🎳 guitar 🎸 musical_note 🎵 headphones 🎧 microphone 🎤 art 🎨 clapper 🎬 tada 🎉 confetti_ball 🎊 balloon 🎈 gift 🎁 ticket 🎫',
	Objects: 'watch ⌚ iphone 📱 computer 💻 keyboard ⌨️ desktop 🖥️ camera 📷 tv 📺 bulb 💡 flashlight 🔦 book 📖 books 📚 memo 📝 pencil ✏️ pushpin 📌 paperclip 📎 scissors ✂️ lock 🔒 key 🔑 hammer 🔨 wrench 🔧 gear ⚙️ link 🔗 bell 🔔 mega 📣 hourglass ⌛ alarm_clock ⏰ moneybag 💰 gem 💎 rocket 🚀 airplane ✈️ car 🚗 bike 🚲 house 🏠 package 📦 calendar 📅 chart 📈',
	Symbols: 'heart ❤️ orange_heart 🧡 yellow_heart 💛 green_heart 💚 blue_heart 💙 purple_heart 💜 black_heart 🖤 white_heart 🤍 broken_heart 💔 two_hearts 💕 sparkling_heart 💖 100 💯 check ✅ white_check_mark ✔️ x ❌ warning ⚠️ no_entry ⛔ question ❓ exclamation ❗ interrobang ⁉️ recycle ♻️ red_circle 🔴 green_circle 🟢 blue_circle 🔵 arrow_up ⬆️ arrow_down ⬇️ arrow_right ➡️ arrow_left ⬅️ new 🆕 free 🆓 cool 🆒 ok 🆗 sos 🆘 zzz 💤 speech_balloon 💬 thought_balloon 💭 plus ➕ minus ➖',
};

// groups is [[group, [[name, emoji] …]] …].
export const groups = Object.entries(table).map(([g, s]) => {
	const w = s.split(' ');
	const out = [];
	for (let i = 0; i + 1 < w.length; i += 2) out.push([w[i], w[i + 1]]);
	return [g, out];
});

const all = groups.flatMap(([, list]) => list);

// search lists emoji whose names start with (then contain) q.
export function search(q, n = 8) {
	q = q.toLowerCase();
	const starts = all.filter(([name]) => name.startsWith(q));
	const has = all.filter(([name]) => !name.startsWith(q) && name.includes(q));
	return starts.concat(has).slice(0, n);
}

// pick shows the picker next to anchor and calls chosen(emoji).
export function pick(anchor, chosen) {
	const grid = h('div', { class: 'egrid', role: 'listbox', 'aria-label': 'Emoji' });
	const input = h('input', { type: 'search', placeholder: 'Find the perfect emoji', 'aria-label': 'Search emoji' });
	const box = h('div', { class: 'picker', role: 'dialog', 'aria-label': 'Emoji picker' }, input, grid);
	const choose = (e) => {
		closeMenu();
		chosen(e);
	};
	const draw = () => {
		grid.replaceChildren();
		const q = input.value.trim();
		const sets = q ? [['Results', search(q, 80)]] : groups;
		for (const [g, list] of sets) {
			grid.append(h('div', { class: 'egroup' }, g));
			for (const [name, e] of list) {
				grid.append(h('button', { class: 'e', role: 'option', title: ':' + name + ':', 'aria-label': name, onclick: () => choose(e) }, e));
			}
		}
	};
	input.addEventListener('input', draw);
	input.addEventListener('keydown', (e) => {
		if (e.key === 'Enter') {
			const first = grid.querySelector('button.e');
			if (first) first.click();
			e.preventDefault();
		}
	});
	grid.addEventListener('keydown', (e) => {
		const b = [...grid.querySelectorAll('button.e')];
		const i = b.indexOf(document.activeElement);
		const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 8, ArrowUp: -8 }[e.key];
		if (step && i >= 0) {
			const n = b[Math.max(0, Math.min(b.length - 1, i + step))];
			n.focus();
			e.preventDefault();
		}
	});
	draw();
	popup(box, anchor);
	input.focus();
}
