Page({
    data: {
        shop: ''
    },
    onLoad() {
        this.setData({shop: getApp().globalData.shop});
    }
});
