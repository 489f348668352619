// Voice channels. The node's voice server (the SFU) is not part of this
// client yet: the channel list shows who is in a voice channel from the
// gateway's voice states, and joining says that voice is not available.
// Joining, leaving, mute and deafen, devices, speaking rings, screen share
// and camera belong here once the SFU's voice gateway is served.

import { toast } from './dom.js';

export function join() {
	toast('Voice channels are not available in this client yet.');
}

// controls are the user panel's voice buttons: none until voice exists.
export function controls() { return null; }
