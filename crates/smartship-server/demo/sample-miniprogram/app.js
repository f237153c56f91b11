App({
    onLaunch() {
        // ext.json is written by the platform for each merchant's app.
        const ext = swan.getExtConfigSync ? swan.getExtConfigSync() : {};
        this.globalData.shop = ext.name || 'Sample Shop';
    },
    globalData: {
        shop: ''
    }
});
