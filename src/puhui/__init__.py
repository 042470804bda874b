"""puhui (普惠): online, data-driven lending to small and micro enterprises."""
