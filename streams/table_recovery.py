"""Faust's table recovery, with its per-record check of whether the replay is done made cheap."""

import faust.tables
import faust.tables.recovery


class Recovery(faust.tables.recovery.Recovery):
    def need_recovery(self) -> bool:
        """Whether an active changelog partition is still behind its high-water mark.

        Faust asks this after every changelog record it replays, and answers it by building a Counter of the records
        left in every active partition (48 for a payments worker): in a profile of a payments worker replaying
        160,000 records that took a tenth of its samples. This answers the same, stopping at the first partition
        behind."""
        offsets = self.active_offsets
        return any(
            highwater is not None and (offset := offsets[tp]) is not None and highwater > offset
            for tp, highwater in self.active_highwaters.items()
        )


class TableManager(faust.tables.TableManager):
    """Faust's table manager, recovering with :class:`Recovery`."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = Recovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery
